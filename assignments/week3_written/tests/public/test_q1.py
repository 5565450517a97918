"""Written problem 1, public: every answer is defined as a finite number (the values are
checked by the hidden tests: public expected values ship to students)."""

from grader.testing import number, points

TASK = "q1"


@points(2.5)
def test_q1_is_a_number(student):
    for name in ["q1_sigmoid_derivative"]:
        number(student, name)
