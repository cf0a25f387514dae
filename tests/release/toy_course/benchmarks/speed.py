print("instructor-only benchmark")
