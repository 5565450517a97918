"""Written problem 6, public: every answer is defined as a finite number (the values are
checked by the hidden tests: public expected values ship to students)."""

from grader.testing import number, points

TASK = "q6"


@points(6.25)
def test_q6_are_numbers(student):
    for name in ["q6_w1_new", "q6_w2_new"]:
        number(student, name)
