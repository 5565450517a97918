"""Written problem 3, public: every answer is defined as a finite number (the values are
checked by the hidden tests: public expected values ship to students)."""

from grader.testing import number, points

TASK = "q3"


@points(3.75)
def test_q3_are_numbers(student):
    for name in ["q3_w1", "q3_w2", "q3_b"]:
        number(student, name)
