def test_instructor_only():
    assert True
