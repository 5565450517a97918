"""Written problem 4, public: every answer is defined as a finite number (the values are
checked by the hidden tests: public expected values ship to students)."""

from grader.testing import number, points

TASK = "q4"


@points(5)
def test_q4_are_numbers(student):
    for name in ["q4_h1", "q4_h2", "q4_o1", "q4_o2"]:
        number(student, name)
