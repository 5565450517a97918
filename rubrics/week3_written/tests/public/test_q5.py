"""Written problem 5, public: every answer is defined as a finite number (the values are
checked by the hidden tests: public expected values ship to students)."""

from grader.testing import number, points

TASK = "q5"


@points(3.75)
def test_q5_are_numbers(student):
    for name in ["q5_J1", "q5_J2"]:
        number(student, name)
