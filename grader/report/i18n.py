"""The one message catalogue: every word a user reads in the reports, the exports and the CLI.

Each entry has a Korean (``ko``) and an English (``en``) text; :func:`t` looks one up by key
and language, fills in ``{placeholders}``, and falls back to English for any other language
(and to the key itself for a key it does not know, so an unexpected status code still shows).

Chosen words, once for everywhere: a part of the assignment is a 문제 (the handout calls the
whole assignment 과제); a test that did not pass 실패, a submission below the pass mark 미통과
(통과 기준 미달 is a verdict on the whole, not a test's status); tests students cannot see are
비공개 (against 공개).

Not here, on purpose: what the rubric says (test messages, hints, task titles) and what the
grading writes into a result (``message``, ``reason``): those are data, kept byte-identical in
``result.json``. Also not here: argparse's help texts (English, like argparse's own words).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

LANGUAGES: Final = ("ko", "en")

MESSAGES: Final[dict[str, dict[str, str]]] = {
    # -- reports: headings and labels --------------------------------------------------
    "title": {"ko": "채점 결과", "en": "Grading report"},
    "score": {"ko": "점수", "en": "Score"},
    "max": {"ko": "만점", "en": "Max"},
    "status": {"ko": "상태", "en": "Status"},
    "task": {"ko": "문제", "en": "Task"},
    "test": {"ko": "테스트", "en": "Test"},
    "result": {"ko": "결과", "en": "Result"},
    "details": {"ko": "설명", "en": "Details"},
    "notes": {"ko": "참고", "en": "Notes"},
    "cells": {"ko": "실행 중 오류가 난 셀", "en": "Cells that failed while running"},
    "cell": {"ko": "셀", "en": "cell"},
    "sandbox": {"ko": "격리 방식", "en": "sandbox"},
    "rubric": {"ko": "채점 기준", "en": "rubric"},
    "expected_got": {"ko": "기댓값 {expected} · 실제 값 {got}", "en": "expected {expected} · got {got}"},
    "hidden_note": {"ko": "비공개 테스트: 이름과 결과만 표시됩니다", "en": "hidden test: name and verdict only"},
    "handout_code": {"ko": "과제에 주어진 코드 때문 (감점 없음)",
                     "en": "the handout's own code (not counted against you)"},
    "public_only": {"ko": "공개 테스트만 실행했습니다 (비공개 테스트는 TA 채점 때 실행)",
                    "en": "public tests only (hidden tests run when your TA grades)"},
    "recognised": {"ko": "인정된 해석", "en": "accepted reading"},
    "mistake": {"ko": "알려진 실수", "en": "known mistake"},
    "diagnosis_note": {"ko": "참고 (감점 없음)", "en": "note (no deduction)"},
    "diagnosis_gradient": {"ko": "기울기 검사", "en": "gradient check"},
    "formula": {"ko": "공식", "en": "formula"},
    "see_above": {"ko": "(위와 같음)", "en": "(as above)"},
    "gradcheck_columns": {"ko": "블록|해석적 값 (여러분의 역전파)|수치 미분|상대 오차|판정",
                          "en": "block|analytic (your backpropagation)|numeric|relative error|verdict"},
    "gradcheck_cell_agrees": {"ko": "맞음", "en": "right"},
    "gradcheck_cell_differs": {"ko": "다름", "en": "off"},
    "gradcheck_cell_not returned": {"ko": "반환하지 않음", "en": "not returned"},
    "gradcheck_cell_wrong shape": {"ko": "모양이 다름", "en": "wrong shape"},
    "gradcheck_cell_factor": {"ko": "정확히 {r}배", "en": "exactly {r}x"},
    "gradcheck_cell_shape": {"ko": "모양 {shape}", "en": "shape {shape}"},
    # -- the report: one submission, part by part (grader.report.view) -------------------
    "report_ta_copy": {"ko": "TA용 보고서: 비공개 테스트의 입력과 기댓값까지 모두 보입니다. 학생에게는 feedback.html을 "
                             "주세요.",
                       "en": "The TA's copy: hidden tests are shown in full. Give students feedback.html."},
    "report_student_copy": {"ko": "학생용 피드백: 비공개 테스트는 통과·실패 수와 실수 이름만 보입니다.",
                            "en": "Your feedback: hidden tests show only how many passed and the names of mistakes."},
    "score_line": {"ko": "{score} / {max_score}점", "en": "{score} / {max_score} points"},
    "pass_line_passed": {"ko": "통과 기준 {mark}점을 넘었습니다.", "en": "Above the pass mark of {mark}."},
    "pass_line_not_passed": {"ko": "통과 기준 {mark}점까지 {missing}점 남았습니다.",
                             "en": "{missing} points short of the pass mark of {mark}."},
    "next_steps": {"ko": "다음에 할 일", "en": "What to do next"},
    "next_all_done": {"ko": "고칠 것이 없습니다. 이대로 제출하세요.", "en": "Nothing to fix: hand it in as it is."},
    "next_fix_part": {"ko": "{part}: {lost}점을 잃었습니다. {what}",
                      "en": "{part}: {lost} points lost. {what}"},
    "next_fix_functions": {"ko": "{functions}부터 고치세요.", "en": "Start with {functions}."},
    "next_fix_cells": {"ko": "오류가 난 셀 {cells}부터 고치세요 (아래 '실행 기록').",
                       "en": "Fix the cells that failed first: {cells} (see 'The run' below)."},
    "next_hidden_only": {"ko": "비공개 테스트에서만 틀렸습니다: 공개 테스트가 다루지 않는 입력을 생각해 보세요.",
                         "en": "Only hidden tests failed: think of inputs the public tests do not try."},
    "next_rerun": {"ko": "고친 뒤 `grader check 노트북.ipynb`로 다시 확인하세요.",
                   "en": "After fixing, check again with `grader check notebook.ipynb`."},
    "parts": {"ko": "문제별 점수", "en": "Points per part"},
    # the parts' names in English (in Korean the rubric's titles are shown)
    "part_gates": {"ko": "논리 게이트 (AND, NAND, OR, XOR)", "en": "Logic gates (AND, NAND, OR, XOR)"},
    "part_activations": {"ko": "활성화 함수 (step, sigmoid, ReLU)", "en": "Activation functions (step, sigmoid, ReLU)"},
    "part_forward": {"ko": "순전파 (forward)", "en": "The forward pass (forward)"},
    "part_backprop": {"ko": "역전파 (sigmoid_prime, backpropagation)",
                      "en": "Backpropagation (sigmoid_prime, backpropagation)"},
    "part_training": {"ko": "뉴런 학습 (1,000번 반복)", "en": "Training the neuron (1,000 steps)"},
    "part_perceptron": {"ko": "Iris 퍼셉트론 (net_input, 전처리)",
                        "en": "The Iris perceptron (net_input, preprocessing)"},
    "part_number": {"ko": "{n}. {title}", "en": "{n}. {title}"},
    "verdict_all_right": {"ko": "모두 맞았습니다 (확인 {count}개).", "en": "All right ({count} checks)."},
    "verdict_none": {"ko": "점수를 얻지 못했습니다: {functions}을(를) 확인하세요.",
                     "en": "No points yet: look at {functions}."},
    "verdict_some": {"ko": "확인 {total}개 중 {failed}개가 틀렸습니다: {functions}.",
                     "en": "{failed} of {total} checks went wrong: {functions}."},
    "verdict_hidden_only": {"ko": "비공개 테스트 {failed}개가 실패했습니다.", "en": "{failed} hidden test(s) failed."},
    "verdict_hidden_too": {"ko": "비공개 테스트도 {failed}개 실패했습니다.",
                           "en": "{failed} hidden test(s) failed too."},
    "reason_partial_cells": {"ko": "일부 셀에서 오류가 났지만 나머지는 모두 채점했습니다 (아래 '실행 기록').",
                             "en": "Some cells failed; everything else was graded (see 'The run' below)."},
    "verdict_mistake": {"ko": "알려진 실수: {title}.", "en": "Known mistake: {title}."},
    "verdict_not_run": {"ko": "채점하지 못했습니다: {reason}", "en": "Could not be graded: {reason}"},
    "verdict_halved": {"ko": "이 문제 전체가 알려진 실수 때문에 감점되었습니다: {title}.",
                       "en": "This whole part is reduced for a known mistake: {title}."},
    "failing_cases": {"ko": "틀린 경우", "en": "What went wrong"},
    "case_call": {"ko": "호출", "en": "call"},
    "case_expected": {"ko": "기댓값", "en": "expected"},
    "case_got": {"ko": "여러분의 값", "en": "yours"},
    "case_where": {"ko": "차이", "en": "where"},
    "case_error": {"ko": "오류", "en": "error"},
    "case_where_index": {"ko": "처음 다른 원소: {index}", "en": "first differs at {index}"},
    "mismatch_shape": {"ko": "모양이 다릅니다", "en": "the shape differs"},
    "mismatch_type": {"ko": "값의 종류(타입)가 다릅니다", "en": "the type differs"},
    "mismatch_nonfinite": {"ko": "nan 또는 inf가 있습니다", "en": "holds nan or inf"},
    "mismatch_length": {"ko": "길이가 다릅니다", "en": "the length differs"},
    "mismatch_missing": {"ko": "노트북에 정의되어 있지 않습니다: 이름의 철자와, 정의하는 셀이 오류 없이 "
                               "실행되는지 확인하세요.",
                         "en": "not defined in the notebook: check its spelling, and that the cell defining it runs "
                               "without an error."},
    "case_more": {"ko": "이 함수의 틀린 경우 {count}개 더 (생략)",
                  "en": "{count} more wrong case(s) of this function (not shown)"},
    "the_test_itself": {"ko": "노트북이 남긴 값", "en": "the values the notebook left"},
    "hidden_counts": {"ko": "비공개 테스트: 통과 {passed}개, 실패 {failed}개",
                      "en": "Hidden tests: {passed} passed, {failed} failed"},
    "hidden_badge": {"ko": "비공개", "en": "hidden"},
    "part_notes": {"ko": "참고 (감점 없음)", "en": "Notes (no deduction)"},
    "gradcheck_title": {"ko": "기울기 검사", "en": "Gradient check"},
    "figures_title": {"ko": "그래프", "en": "Plots"},
    "figure_legend": {"ko": "파란 실선: 여러분의 코드 · 회색 점선: 정답",
                      "en": "Blue solid line: your code · grey dashed line: the reference"},
    "figure_curve": {"ko": "{function}(x), x는 −6부터 6까지.", "en": "{function}(x) for x from −6 to 6."},
    "figure_loss": {"ko": "OR 뉴런을 배포된 노트북의 시작점(W = [−0.79, 0.68], b = 0)에서 여러분의 sigmoid와 "
                          "backpropagation으로 1,000번 학습할 때의 손실 mean((A − Y)²) (로그 눈금).",
                    "en": "The OR neuron's loss mean((A − Y)²) over 1,000 steps from the handout's start "
                          "(W = [−0.79, 0.68], b = 0), trained with your sigmoid and backpropagation (log scale)."},
    "figure_errors": {"ko": "퍼셉트론이 에포크마다 틀린 샘플 수: 여러분의 Perceptron(0.1, 10)을 여러분의 X, y로 학습.",
                      "en": "The perceptron's misclassified samples per epoch: your Perceptron(0.1, 10) fitted on your "
                            "X and y."},
    "figure_regions": {"ko": "결정 영역: 여러분의 퍼셉트론이 여러분의 특성 두 개 위에서 나눈 영역 "
                             "(파랑 1, 주황 −1) 과 데이터 점 (o: 1, x: −1).",
                       "en": "Decision regions: how your perceptron splits the plane of your two features "
                             "(blue 1, orange −1), with the data (o: 1, x: −1)."},
    "figure_regions_first_two": {"ko": "여러분의 X에는 특성이 {features}개 있어서, 그림은 앞의 두 개(X[:, 0:2])로 "
                                       "여러분의 Perceptron을 다시 학습해 그렸습니다.",
                                 "en": "Your X has {features} features: the plot shows the first two (X[:, 0:2]), "
                                       "with your Perceptron fitted again on them."},
    "figure_problem": {"ko": "여러분의 {what}은(는) 그릴 수 없었습니다: {problem}",
                       "en": "Your {what} could not be plotted: {problem}"},
    "figure_why_missing": {"ko": "{name}이(가) 노트북에 정의되어 있지 않습니다",
                           "en": "{name} is not defined in the notebook"},
    "figure_why_raised": {"ko": "{what}을(를) 부르자 오류가 났습니다: {error}",
                          "en": "{what} could not be called: {error}"},
    "figure_why_budget": {"ko": "그래프에 쓸 시간이 다 되어 {what}을(를) 부르지 않았습니다",
                          "en": "{what} was not called: the time for the figures ran out"},
    "figure_why_timeout": {"ko": "{what}이(가) 제시간에 끝나지 않았습니다", "en": "{what} did not finish in time"},
    "figure_why_died": {"ko": "{what} 중에 노트북의 커널이 죽었습니다",
                        "en": "the notebook's kernel died during {what}"},
    "figure_why_not_numbers": {"ko": "{what}이(가) 숫자가 아닌 {kind}을(를) 돌려주었습니다",
                               "en": "{what} gave {kind}, not numbers"},
    "figure_why_count": {"ko": "{what}이(가) 값 {want}개 대신 {got}개를 돌려주었습니다",
                         "en": "{what} gave {got} value(s) where {want} were due"},
    "figure_name_loss": {"ko": "손실 곡선", "en": "loss curve"},
    "figure_name_errors": {"ko": "에포크별 오류 수", "en": "errors per epoch"},
    "figure_name_regions": {"ko": "결정 영역", "en": "decision regions"},
    "note_np_alias": {"ko": "{what}을(를) 썼습니다 (배포된 노트북의 예시 셀도 np.int를 씁니다): NumPy 1.24에서 "
                            "없어졌지만, 채점 커널은 수업 환경처럼 받아들였습니다 (요즘 NumPy에서는 {plain}로 쓰세요)",
                      "en": "{what} was used (the handout's own demo cell uses np.int): NumPy 1.24 removed it; the "
                            "grader's kernel accepts it as the course's environment did (on a current NumPy write "
                            "{plain})"},
    "note_read_csv_eader": {"ko": "pd.read_csv(..., eader=None) (배포된 노트북의 header= 오타)를 원래 뜻대로 "
                                  "header=None으로 읽었습니다",
                            "en": "pd.read_csv(..., eader=None) (the handout's typo of header=) was read as "
                                  "header=None, as the handout meant"},
    "note_handout_cell": {"ko": "셀 {index}은(는) 여러분이 아니라 배포된 노트북에 원래 있던 코드 때문에 실패했습니다: "
                                "{title}",
                          "en": "cell {index} failed because of the handout's own code, not yours: {title}"},
    "override_title": {"ko": "TA 점수 조정", "en": "The TA's overrides"},
    "override_in_force": {"ko": "조정을 반영한 점수: {score} / {max_score}점",
                          "en": "The grade in force: {score} / {max_score} points"},
    "override_row": {"ko": "{part}: {was}점 → {points} / {max_score}점 ({comment}; {who}, {when})",
                     "en": "{part}: {was} → {points} / {max_score} ({comment}; {who}, {when})"},
    "figure_none": {"ko": "그래프를 그리지 못했습니다.", "en": "No plot could be drawn."},
    "run_title": {"ko": "실행 기록", "en": "The run"},
    "run_clean": {"ko": "모든 셀이 오류 없이 실행되었습니다.", "en": "Every cell ran without an error."},
    "run_cell_error": {"ko": "셀 {index}에서 오류가 났습니다: {error}", "en": "Cell {index} raised an error: {error}"},
    "run_cell_timeout": {"ko": "셀 {index}이(가) 시간 제한을 넘겨 중단되었습니다.",
                         "en": "Cell {index} ran past the time limit and was stopped."},
    "run_cell_killed": {"ko": "셀 {index}을(를) 실행하다 커널이 죽었습니다 ({error}).",
                        "en": "The kernel died while running cell {index} ({error})."},
    "run_cell_skipped": {"ko": "셀 {index}은(는) 실행되지 않았습니다: 노트북 전체의 시간 제한에 걸렸습니다.",
                         "en": "Cell {index} was not run: the notebook's time limit was reached."},
    "run_replayed": {"ko": "새 커널에서 그 전의 셀 {cells}을(를) 다시 실행했습니다.",
                     "en": "On a new kernel, the cells before it were run again: {cells}."},
    "run_handout": {"ko": "배포된 노트북에 원래 있던 코드의 문제입니다 (여러분의 실수가 아님): {title}. {hint}",
                    "en": "This comes from the handout's own code, not yours: {title}. {hint}"},
    "run_printed": {"ko": "이 셀이 출력한 내용", "en": "What this cell printed"},
    "run_traceback": {"ko": "오류 추적 (끝 부분)", "en": "Traceback (the end)"},
    "run_facts": {"ko": "격리 방식 {sandbox} · 채점 기준 {assignment} {version}",
                  "en": "sandbox {sandbox} · rubric {assignment} {version}"},
    "report_error_note": {"ko": "이 결과의 보고서를 쓰다가 문제가 있었습니다: {error}",
                          "en": "Writing this result's report had a problem: {error}"},
    "all_passed": {"ko": "모든 테스트를 통과했습니다.", "en": "All tests passed."},
    "all_public_passed": {"ko": "모든 공개 테스트를 통과했습니다.", "en": "All public tests passed."},
    "failed_tests": {"ko": "실패한 테스트", "en": "Failed tests"},
    "failed_public_tests": {"ko": "실패한 공개 테스트", "en": "Failed public tests"},
    "hidden_failed": {"ko": "비공개 테스트 {total}개 중 {failed}개 실패 (이름과 결과만 공개)",
                      "en": "Hidden tests: {failed} of {total} failed (name and verdict only)"},
    "hidden_test_status": {"ko": "비공개 테스트: {status}", "en": "hidden test: {status}"},
    "cell_error": {"ko": "셀 {index}: {error}", "en": "cell {index}: {error}"},
    "more_characters": {"ko": "… (이하 {count}자 생략)", "en": "… ({count} more characters)"},
    # -- a test's status ---------------------------------------------------------------
    "passed": {"ko": "통과", "en": "passed"},
    "failed": {"ko": "실패", "en": "failed"},
    "error": {"ko": "오류", "en": "error"},
    "timeout": {"ko": "시간 초과", "en": "timeout"},
    "killed": {"ko": "강제 종료", "en": "killed"},  # a cell's status: its kernel was stopped
    # -- a submission's status and its verdict against the pass mark --------------------
    "graded": {"ko": "채점 완료", "en": "graded"},
    "partial": {"ko": "부분 채점 (일부 셀 실패)", "en": "partly graded (some cells failed)"},
    "crashed": {"ko": "커널 중단", "en": "crashed"},
    "invalid": {"ko": "읽을 수 없는 노트북", "en": "invalid notebook"},
    "verdict_passed": {"ko": "통과", "en": "passed"},
    "verdict_not_passed": {"ko": "미통과", "en": "not passed"},
    "pass_mark": {"ko": "통과 기준", "en": "pass mark"},
    # -- the batch's progress and summary (stderr) -------------------------------------
    "progress_label": {"ko": "채점 중", "en": "grading"},
    "progress_eta": {"ko": "남은 시간", "en": "ETA"},
    "progress_start": {"ko": "제출물 {total}개 채점", "en": "grading {total} submission(s)"},
    "progress_line": {"ko": "[{done}/{total}] {submission}: {status} {score}/{max_score} "
                            "(경과 {elapsed}초, 남은 시간 {eta}초)",
                      "en": "[{done}/{total}] {submission}: {status} {score}/{max_score} "
                            "(elapsed {elapsed}s, eta {eta}s)"},
    "summary_counts": {"ko": "노트북 {total}개: 이번에 채점 {graded_now} ({parts}), "
                             "이미 성적부에 있음 {skipped}, {seconds}초",
                       "en": "{total} notebook(s): graded now {graded_now} ({parts}), "
                             "already in the gradebook {skipped}, {seconds}s"},
    "summary_nothing_new": {"ko": "새로 채점한 것 없음", "en": "nothing new"},
    "summary_not_normal": {"ko": "{count}개는 정상적으로 채점되지 않았습니다 (커널 중단 또는 읽을 수 없음): "
                                 "보고서를 확인하세요",
                           "en": "{count} could not be graded normally (crashed or invalid): see their reports"},
    "summary_duplicate": {"ko": "{student}의 제출물이 {count}개입니다: {submissions} (각각 따로 채점)",
                          "en": "{student} has {count} submissions: {submissions} (each graded separately)"},
    "summary_interrupted": {"ko": "중단됨: 같은 명령을 다시 실행하면 이어서 채점합니다. 끝난 결과는 보존됩니다",
                            "en": "interrupted: rerun the same command to resume; finished results are kept"},
    "summary_dashboard": {"ko": "학급 대시보드: {dashboard}", "en": "class dashboard: {dashboard}"},
    "summary_files": {"ko": "성적부: {gradebook}  성적표: {grades}  보고서: {reports}",
                      "en": "gradebook: {gradebook}  grades: {grades}  reports: {reports}"},
    # -- the command line ----------------------------------------------------------------
    "cli_error": {"ko": "grader: 오류: {message}", "en": "grader: error: {message}"},
    "cli_warning": {"ko": "grader: 경고: {message}", "en": "grader: warning: {message}"},
    "cli_problem": {"ko": "grader: {message}", "en": "grader: {message}"},
    "cli_interrupted": {"ko": "grader: 중단됨", "en": "grader: interrupted"},
    "cli_rlimits_only": {"ko": "{note}; 자원 제한만으로 채점합니다", "en": "{note}; grading with resource limits only"},
    "cli_notebook_missing": {"ko": "{path}을(를) 찾을 수 없습니다. .ipynb 파일의 경로를 지정하세요",
                             "en": "{path} not found; pass the path of your .ipynb file"},
    "cli_jobs_at_least_1": {"ko": "-j는 1 이상이어야 합니다", "en": "-j must be at least 1"},
    "cli_no_result": {"ko": "{assignment} 제출물 {count}개에 결과가 없습니다. 같은 명령을 다시 실행해 채점하세요",
                      "en": "{count} {assignment} submission(s) got no result; rerun the same command to grade them"},
    "cli_no_gradebook": {"ko": "{path}을(를) 찾을 수 없습니다. "
                               "먼저 `grader grade SUBMISSIONS --out {out}`을 실행하세요",
                         "en": "{path} not found; run `grader grade SUBMISSIONS --out {out}` first"},
    "cli_html_written": {"ko": "HTML 보고서: {path}", "en": "HTML: {path}"},
    "cli_wrote_files": {"ko": "파일 {count}개를 썼습니다: {where}", "en": "wrote {count} file(s): {where}"},
    "cli_nothing_to_export": {"ko": "내보낼 결과가 없습니다", "en": "nothing to export"},
    "cli_wrote": {"ko": "작성: {path}", "en": "wrote {path}"},
    # -- diagnoses the engine words itself (grader.checks.broadcast, grader.checks.gradient) ----
    "broadcast_head": {"ko": "{label}의 모양이 {want}이어야 하는데 {got}입니다",
                       "en": "{label} has shape {got} where {want} was due"},
    "broadcast_pair": {
        "ko": "{head}. {a} {sa}와 {b} {sb}가 원소별 연산(+, −, *)에서 {got}로 브로드캐스트되었습니다. NumPy는 모자란 "
              "축을 따라 서로를 늘려서 모든 원소끼리 짝을 짓습니다. 먼저 두 배열의 모양을 맞추거나 (예: "
              "{a}.reshape{sb}), 행렬곱이 필요한 곳이면 @를 쓰세요.",
        "en": "{head}: {a} {sa} and {b} {sb} broadcast to {got} in an element-wise operation (+, −, *). NumPy "
              "stretches each along the other's missing axis and pairs every element with every other. Give both "
              "the same shape first (for example {a}.reshape{sb}), or use a matrix product (@) where one was meant."},
    "broadcast_table": {
        "ko": "{head}. 남는 {n}짜리 축은 ({n}, {n}) 표에서 왔습니다: {row} {srow}와 {column} {scolumn}가 원소별 "
              "연산(예: A − Y)에서 서로 브로드캐스트되어, {n}개여야 할 값이 모든 {row}[j]와 {column}[i]의 짝, {nn}개가 "
              "됩니다. 그 표로 계산한 것(행렬곱, 합)도 잘못된 모양을 이어받습니다. 모양을 맞추세요: "
              "{row}.reshape(-1, 1), 또는 W를 (2, 1) 배열로 두면 A가 열벡터로 나옵니다.",
        "en": "{head}. The extra axis of {n} comes from a ({n}, {n}) table: {row} {srow} and {column} {scolumn} "
              "broadcast against each other in an element-wise operation (such as A − Y) give every {row}[j] against "
              "every {column}[i], {nn} values where {n} were meant; what is computed from that table (a product, a "
              "sum) carries the wrong shape on. Make them the same shape: {row}.reshape(-1, 1), or keep W a (2, 1) "
              "array so that A comes out as a column."},
    "broadcast_stretched": {
        "ko": "{head}. 길이 1이어야 할 축이 {n}으로 늘어났습니다: 어딘가에서 행 모양의 배열(({n},) 또는 (1, {n}))과 "
              "({n}, 1) 열벡터가 "
              "원소별 연산을 만나 (예: A.flatten() − Y, 또는 W를 파이썬 리스트로 둔 채 계산한 A), {n}개의 값 대신 "
              "{n}×{n} 표가 되었습니다. {n}개 샘플의 배열은 모두 ({n}, 1) 열벡터로 두세요 (reshape(-1, 1)).",
        "en": "{head}. An axis of length 1 was stretched to {n}: somewhere a row (shape ({n},) or (1, {n})) met a "
              "({n}, 1) "
              "column in an element-wise operation (for example A.flatten() − Y, or an A computed from a W kept as a "
              "Python list), which gives a {n}×{n} table instead of {n} values. Keep every array of the {n} samples "
              "a ({n}, 1) column (reshape(-1, 1))."},
    "gradcheck_head": {"ko": "직접 만든 sigmoid로 한 기울기 검사 (E = ½Σ(A−Y)² 의 중앙 차분).",
                       "en": "Gradient check with your own sigmoid (centred differences of E = ½Σ(A−Y)²)."},
    "gradcheck_forward_same": {"ko": "순전파는 기준 답안과 같습니다.",
                               "en": "Your forward pass agrees with the reference's."},
    "gradcheck_forward_differs": {
        "ko": "순전파가 기준 답안과 다릅니다 (sigmoid): 검사는 여러분의 sigmoid를 쓰므로, 역전파를 여러분의 순전파에 "
              "맞춰 판단합니다.",
        "en": "Your forward pass differs from the reference's (your sigmoid): the check uses yours, so it judges "
              "your backpropagation against your own forward pass."},
    "gradcheck_agrees": {"ko": "{blocks}: 맞습니다 (상대 오차 {err}).",
                         "en": "{blocks}: right (relative error {err})."},
    "gradcheck_factor": {"ko": "{blocks}: 기대값의 정확히 {r}배입니다. {why}",
                         "en": "{blocks}: exactly {r}x the expected value. {why}"},
    "gradcheck_differs": {"ko": "{blocks}: 다릅니다 (상대 오차 {err}), 일정한 배수도 아닙니다.",
                          "en": "{blocks}: off (relative error {err}), by no single factor."},
    "gradcheck_shape": {"ko": "{block}: 모양이 {want}이어야 하는데 {got}입니다.",
                        "en": "{block}: shape {got} where {want} was due."},
    "gradcheck_start": {"ko": "{source}부터 고치세요: {later}는 {source}로 계산합니다.",
                        "en": "Start with {source}: {later} are computed from it."},
    "gradcheck_why_2": {"ko": "손실의 ½ 때문입니다: E = ½Σ(A−Y)² 의 미분은 2(A − Y)가 아니라 A − Y 입니다.",
                        "en": "The ½ in the loss: E = ½Σ(A−Y)² gives ∂E/∂A = A − Y, not 2(A − Y)."},
    "gradcheck_why_-1": {"ko": "부호가 반대입니다: ∂E/∂A 는 Y − A 가 아니라 A − Y 입니다.",
                         "en": "The sign is flipped: ∂E/∂A = A − Y, not Y − A."},
    "gradcheck_why_0.25": {"ko": "4분의 1입니다: 손실은 네 샘플의 합인데 샘플 수로 나누었습니다.",
                           "en": "A quarter: divided by the 4 samples, where the loss sums over them."},
    "gradcheck_why_-2": {"ko": "손실의 ½과 부호가 함께 틀렸습니다.", "en": "The ½ of the loss and the sign both."},
    "gradcheck_off": {"ko": "어긋난 블록: {blocks}", "en": "blocks off: {blocks}"},
    "gradcheck_ok": {"ko": "모든 블록이 맞습니다", "en": "every block agrees"},
    # -- issue 14: class dashboard (grader.report.dashboard) --
    "dash_title": {"ko": "반 전체 채점 현황", "en": "Class dashboard"},
    "dash_made": {"ko": "{when}에 만듦", "en": "made {when}"},
    "landing_intro": {"ko": "이 폴더에는 노트북 {count}종의 채점 결과가 있습니다. "
                                 "이름을 누르면 그 현황으로 갑니다.",
                           "en": "This folder holds the grades of {count} assignments; each name opens its dashboard."},
    "landing_assignment": {"ko": "노트북 (채점 기준)", "en": "Assignment"},
    "landing_passed": {"ko": "통과", "en": "passed"},
    "dash_overview": {"ko": "요약", "en": "Overview"},
    "dash_empty": {"ko": "아직 결과가 없습니다.", "en": "No results yet."},
    "dash_count_submissions": {"ko": "제출물", "en": "submissions"},
    "dash_count_graded": {"ko": "채점됨", "en": "graded"},
    "dash_count_not_graded": {"ko": "채점하지 못함", "en": "could not be graded"},
    "dash_count_passed": {"ko": "통과 (기준 {mark}점)", "en": "passed (pass mark {mark})"},
    "dash_mean": {"ko": "평균 점수", "en": "mean score"},
    "dash_median": {"ko": "중앙값", "en": "median score"},
    "dash_over_graded": {"ko": "통과 수, 평균과 중앙값은 채점된 제출물만 셉니다. 상태별:",
                         "en": "Passes, mean and median count the graded submissions only. By status:"},
    "dash_histogram": {"ko": "점수 분포", "en": "Scores"},
    "dash_hist_points": {"ko": "점수 구간별 제출물 수.", "en": "Submissions per range of points."},
    "dash_hist_percent": {"ko": "만점 대비 백분율 구간별 제출물 수 (만점이 서로 다름).",
                          "en": "Submissions per range of the maximum, in percent (the maxima differ)."},
    "dash_hist_left_out": {"ko": "채점하지 못한 제출물 {count}개는 빠져 있습니다.",
                           "en": "The {count} submission(s) that could not be graded are left out."},
    "dash_parts": {"ko": "문제별 결과", "en": "Parts"},
    "dash_rates_over": {"ko": "채점된 제출물 {count}개 기준 (채점하지 못한 제출물은 아래에 따로).",
                        "en": "Over the {count} graded submission(s) (those that could not be graded are listed "
                              "below)."},
    "dash_mean_score": {"ko": "평균 점수", "en": "Mean score"},
    "dash_full_marks": {"ko": "만점 받은 제출물", "en": "Full marks"},
    "dash_tests": {"ko": "테스트별 통과율", "en": "Pass rate per test"},
    "dash_visibility": {"ko": "공개 여부", "en": "Visibility"},
    "dash_public": {"ko": "공개", "en": "public"},
    "dash_pass_rate": {"ko": "통과율", "en": "Passed"},
    "dash_mistakes": {"ko": "자주 나온 실수", "en": "The most common mistakes"},
    "dash_no_mistakes": {"ko": "알려진 실수가 발견되지 않았습니다.", "en": "No known mistake was found."},
    "dash_who": {"ko": "누가 (보고서)", "en": "Who (their reports)"},
    "dash_more_students": {"ko": "외 {count}개", "en": "and {count} more"},
    "dash_students": {"ko": "학생별 결과", "en": "Students"},
    "dash_filter": {"ko": "찾기:", "en": "Filter:"},
    "dash_shown": {"ko": "{total}개 중 {shown}개 표시", "en": "{shown} of {total} shown"},
    "dash_sort_hint": {"ko": "열 제목을 누르면 그 열로 정렬합니다 (JavaScript 필요).",
                       "en": "Click a column's heading to sort by it (needs JavaScript)."},
    "dash_student": {"ko": "학생", "en": "Student"},
    "dash_submission": {"ko": "제출 파일 (TA용 보고서)", "en": "Submission (the TA's report)"},
    "dash_total": {"ko": "합계", "en": "Total"},
    "dash_mistakes_column": {"ko": "실수", "en": "Mistakes"},
    "dash_flag_override": {"ko": "점수 수정됨", "en": "score changed"},
    "dash_flag_similar": {"ko": "비슷한 제출물 있음", "en": "similar to another"},
    "dash_not_graded": {"ko": "채점하지 못한 제출물", "en": "Submissions that could not be graded"},
    "dash_all_graded": {"ko": "모든 제출물을 채점했습니다.", "en": "Every submission was graded."},
    "dash_reason": {"ko": "이유", "en": "Reason"},
    "dash_similar": {"ko": "비슷한 제출물", "en": "Similar submissions"},
    "dash_similar_note": {"ko": "직접 쓴 코드가 거의 같은 쌍입니다. 참고용이며, 판단하거나 감점하지 않습니다.",
                          "en": "Pairs whose own code is nearly the same. For information: it does not judge or "
                                "deduct."},
    "dash_similarity": {"ko": "유사도", "en": "Similarity"},
    "dash_side_by_side": {"ko": "나란히 보기", "en": "side by side"},
    "dash_overrides": {"ko": "직접 고친 점수", "en": "Scores changed by hand"},
    "dash_comment": {"ko": "사유", "en": "Comment"},
    "dash_by": {"ko": "고친 사람", "en": "By"},
    "dash_when": {"ko": "고친 때", "en": "When"},
    "dash_facts": {"ko": "이번 실행", "en": "This run"},
    "dash_fact_date": {"ko": "날짜", "en": "Date"},
    "dash_fact_grader": {"ko": "채점기 버전", "en": "Grader version"},
    "dash_fact_rubric": {"ko": "채점 기준과 버전", "en": "Rubric and version"},
    "dash_fact_other_versions": {"ko": "결과 중 일부의 채점 기준 버전: {versions}",
                                 "en": "some results have rubric version {versions}"},
    "dash_fact_sandbox": {"ko": "격리 방식", "en": "Sandbox"},
    "dash_fact_graded_now": {"ko": "이번에 채점", "en": "Graded now"},
    "dash_fact_skipped": {"ko": "이미 성적부에 있어 건너뜀", "en": "Skipped (already in the gradebook)"},
    "dash_fact_no_run": {"ko": "없음 (채점 없이 다시 만든 페이지)",
                         "en": "none (the page was rebuilt without grading)"},
    # -- issue 14: similar submissions (grader/similarity.py, templates/similar_pair.html.j2) --
    "similar_title": {"ko": "비슷한 제출물", "en": "Similar submissions"},
    "similar_score_is": {"ko": "두 학생이 직접 쓴 코드 중 더 짧은 쪽 기준으로 겹치는 비율 (정규화한 {shared}자)",
                         "en": "of the shorter side's own code is shared ({shared} normalised characters)"},
    "similar_informs": {"ko": "참고용입니다: 점수를 바꾸지 않으며 베꼈다는 판정도 아닙니다. 배포된 노트북의 코드, "
                              "주석, 공백, 모두가 똑같이 쓰는 한 줄짜리 답은 비교에서 뺐고, 변수 이름과 셀 순서는 "
                              "무시했습니다. 두 코드를 직접 읽고 판단하세요.",
                        "en": "For information only: it changes no grade and is no finding of copying. The "
                              "handout's code, comments, whitespace and the one-line answers everybody writes "
                              "alike were left out; variable names and cell order were ignored. Read both and judge."},
    "similar_shared": {"ko": "겹치는 부분", "en": "shared"},
    "similar_legend": {"ko": "두 학생 모두에게 있는 코드 (이름을 바꾸어도 같은 것으로 봅니다)",
                       "en": "code both students have (renamed names count as the same)"},
    "similar_cell": {"ko": "셀 {n}", "en": "cell {n}"},
    "similar_no_code": {"ko": "비교할 직접 쓴 코드가 없습니다.", "en": "No own code to compare."},
    # -- issue 14: overrides, roster, sheet, handout (grader/cli.py, batch.py, report/exports.py) --
    "export_override_line": {"ko": "조정된 점수: {comment}", "en": "override: {comment}"},
    "cli_override_set": {"ko": "{student}: {part} {points} / {max}점으로 조정 (채점 결과 {was}), "
                                "총점 {total} / {maximum}",
                         "en": "{student}: {part} set to {points} / {max} (graded {was}); total {total} / {maximum}"},
    "cli_override_cleared": {"ko": "{student}: 조정 {count}개를 지웠습니다",
                             "en": "{student}: {count} override(s) cleared"},
    "cli_override_none": {"ko": "{assignment}: 조정된 점수가 없습니다", "en": "{assignment}: no overrides"},
    "cli_override_item": {"ko": "{student}  {part}  {points}점  {comment}  ({who}, {when})",
                          "en": "{student}  {part}  {points} points  {comment}  ({who}, {when})"},
    "cli_handout_left_out": {"ko": "제외: {submission}은(는) 배포한 노트북({handout})을 고치지 않은 사본입니다",
                             "en": "left out {submission}: an untouched copy of the handout ({handout})"},
    "cli_no_notebooks": {"ko": "{paths}에 채점할 노트북이 없습니다", "en": "no notebook to grade under {paths}"},
    # -- issue 15: pull requests and CI (grader/ci.py, grader check --ci) --
    "ci_comment_title": {"ko": "공개 테스트 결과", "en": "Public test results"},
    "ci_comment_score": {"ko": "{score} / {max}점, {verdict} (통과 기준 {mark}점)",
                         "en": "{score} / {max}, {verdict} (pass mark {mark})"},
    "ci_comment_columns": {"ko": "문제|점수|판정|실패한 함수", "en": "Part|Points|Verdict|Failing functions"},
    "ci_skipped_heading": {"ko": "검사하지 않은 노트북", "en": "Notebooks not checked"},
    "ci_official": {"ko": "공식 점수는 마감 뒤 조교가 병합된 폴더를 채점한 결과입니다. 이 검사는 공개 테스트만 "
                          "실행했고, 비공개 테스트는 여기서 실행하지 않습니다.",
                    "en": "The official grade is the TA's run on the merged folder after the deadline. This check "
                          "ran the public tests only; hidden tests never run here."},
    "ci_sandbox_strong": {"ko": "격리 방식: {mechanism} (네임스페이스로 격리)",
                          "en": "Sandbox: {mechanism} (namespaces)"},
    "ci_sandbox_weak": {"ko": "주의: 이 러너에서는 강한 격리(bubblewrap 네임스페이스)를 쓸 수 없어 노트북을 자원 "
                              "제한만으로 실행했습니다 ({mechanism}). 워크플로가 bubblewrap을 설치하고 사용자 "
                              "네임스페이스를 허용하는지 확인하세요.",
                        "en": "Warning: the strong sandbox (bubblewrap namespaces) was not available on this runner; "
                              "the notebooks ran with resource limits only ({mechanism}). Check that the workflow "
                              "installs bubblewrap and allows user namespaces."},
    "ci_nothing_to_check": {"ko": "이 변경에는 검사할 노트북이 없습니다.",
                            "en": "No notebook to check in this change."},
    "ci_comment_cut": {"ko": "(너무 길어 여기서 자름: 전체 내용은 CI 작업 요약을 보세요)",
                       "en": "(cut here, too long: the CI job's summary has everything)"},
    "ci_more_calls": {"ko": "(실패한 호출 {count}개 더)", "en": "({count} more failing calls)"},
    "ci_skipped": {"ko": "건너뜀: {path}: {why}", "en": "skipped {path}: {why}"},
    "ci_skip_outside_root": {"ko": "{root} 밖에 있는 노트북", "en": "not under {root}"},
    "ci_skip_no_rubric": {"ko": "이 채점기가 채점하는 노트북이 아님", "en": "no rubric of this grader grades it"},
    "ci_skip_not_file": {"ko": "일반 파일이 아님 (심볼릭 링크나 서브모듈)",
                         "en": "not a regular file (a symbolic link or a submodule)"},
    "ci_skip_too_big": {"ko": "파일이 너무 큼 ({mib} MiB)", "en": "too big ({mib} MiB)"},
    "ci_skip_handout": {"ko": "배포된 노트북({handout})을 고치지 않은 사본",
                        "en": "an untouched copy of the handout ({handout})"},
    "ci_comment_written": {"ko": "PR 댓글 내용을 {path}에 썼습니다", "en": "wrote the pull request comment to {path}"},
    "ci_comment_posted": {"ko": "댓글을 올렸습니다: {where}", "en": "posted the comment: {where}"},
    "ci_comment_updated": {"ko": "이전 댓글을 고쳤습니다: {where}", "en": "updated the earlier comment: {where}"},
    "ci_option_needs_ci": {"ko": "{option}은(는) --ci와 함께만 쓸 수 있습니다; --ci를 붙이세요",
                           "en": "{option} works with --ci only; add --ci"},
    "ci_one_notebook": {"ko": "노트북을 하나 주세요 ({count}개를 받음); 여러 개는 --ci와 함께 검사합니다",
                        "en": "give one notebook (got {count}); check several with --ci"},
    "ci_no_notebook_given": {"ko": "검사할 노트북을 주거나 --changed를 쓰세요",
                             "en": "give the notebooks to check, or use --changed"},
    "ci_changed_or_notebooks": {"ko": "--changed는 바뀐 노트북을 git에서 찾습니다; 노트북 경로와 함께 쓰지 마세요",
                                "en": "--changed finds the changed notebooks in git; give it without notebook paths"},
    "ci_json_html_one": {"ko": "--json과 --html은 노트북 하나에만 씁니다; 여러 개는 --summary와 --junit을 쓰세요",
                         "en": "--json and --html are for one notebook; for several use --summary and --junit"},
    "ci_changed_needs_range": {"ko": "CI 밖에서는 --changed BASE...HEAD처럼 두 리비전을 주세요",
                               "en": "outside CI give the revisions: --changed BASE...HEAD (e.g. origin/main...HEAD)"},
    "ci_bad_range": {"ko": "--changed {spec}을(를) 읽을 수 없습니다; BASE...HEAD 또는 BASE로 주세요",
                     "en": "--changed {spec} cannot be read; give BASE...HEAD or BASE"},
    "ci_no_event": {"ko": "GITHUB_EVENT_PATH가 없습니다; --changed BASE...HEAD로 리비전을 주세요",
                    "en": "GITHUB_EVENT_PATH is not set; give the revisions with --changed BASE...HEAD"},
    "ci_bad_event": {"ko": "이벤트 파일 {path}을(를) 읽을 수 없습니다 ({error})",
                     "en": "the event file {path} cannot be read ({error})"},
    "ci_event_not_pr": {"ko": "{path}는 pull request 이벤트가 아닙니다; 워크플로를 pull_request_target으로 "
                              "실행하거나 --changed BASE...HEAD를 주세요",
                        "en": "{path} is not a pull request event; run the workflow on pull_request_target or "
                              "give --changed BASE...HEAD"},
    "ci_gitlab_not_mr": {"ko": "머지 리퀘스트 파이프라인이 아닙니다 (CI_MERGE_REQUEST_DIFF_BASE_SHA 없음); "
                               "rules에 merge_request_event를 쓰거나 --changed BASE...HEAD를 주세요",
                         "en": "not a merge request pipeline (no CI_MERGE_REQUEST_DIFF_BASE_SHA); run the job on "
                               "merge_request_event or give --changed BASE...HEAD"},
    "ci_git_failed": {"ko": "git {command} 실패: {error}; 두 리비전을 가져왔는지 확인하세요 (fetch-depth: 0)",
                      "en": "git {command} failed: {error}; check that both revisions were fetched "
                            "(fetch-depth: 0)"},
    "ci_token_missing": {"ko": "토큰이 없습니다: 환경 변수 {variable}을(를) 이 단계에만 설정하세요",
                         "en": "no token: set the environment variable {variable} (in this step only)"},
    "ci_env_missing": {"ko": "환경 변수 {variable}이(가) 없습니다; CI 안에서 실행하세요",
                       "en": "the environment variable {variable} is not set; run this inside the CI job"},
    "ci_comment_where": {"ko": "어디에 올릴지 모릅니다: CI 안에서 실행하거나 --github 또는 --gitlab을 주세요",
                         "en": "where to post is unknown: run inside CI or give --github or --gitlab"},
    "ci_comment_unreadable": {"ko": "{path}을(를) 읽을 수 없습니다 ({error}); grader check --ci가 쓴 파일을 주세요",
                              "en": "{path} cannot be read ({error}); give the file grader check --ci wrote"},
    "ci_api_bad_url": {"ko": "API 주소 {url}은(는) http(s)가 아닙니다",
                       "en": "the API address {url} is not http(s)"},
    "ci_api_unreachable": {"ko": "{method} {url}: 응답 없음 ({error}); 네트워크와 API 주소를 확인하세요",
                           "en": "{method} {url}: no answer ({error}); check the network and the API address"},
    "ci_api_refused": {"ko": "{method} {path}: HTTP {status} {detail}; 토큰의 권한을 확인하세요 "
                             "(GitHub: pull-requests: write, GitLab: api)",
                       "en": "{method} {path}: HTTP {status} {detail}; check the token's permissions "
                             "(GitHub: pull-requests: write, GitLab: api)"},
    # -- issue 15: the check cell in Jupyter and Colab (grader/cell.py) --
    "cell_heading": {"ko": "공개 테스트로 확인한 결과 ({assignment})", "en": "Public tests ({assignment})"},
    "cell_basis": {"ko": "지금까지 실행한 입력 {count}개를 실행 순서대로 다시 실행해 확인했습니다",
                   "en": "the {count} input(s) run so far, run again in the order they ran"},
    "cell_official": {"ko": "이 결과는 공개 테스트만으로 확인한 것입니다. "
                            "공식 점수는 조교가 채점기로 채점한 결과입니다.",
                      "en": "This is the public tests only; the official grade is the TA's run of the grader."},
    "cell_input_error": {"ko": "입력 [{n}]이(가) 오류로 끝났습니다: {error}",
                         "en": "Input [{n}] raised an error: {error}"},
    "cell_input_timeout": {"ko": "입력 [{n}]이(가) 시간 안에 끝나지 않았습니다",
                           "en": "Input [{n}] did not finish in time"},
    "cell_input_killed": {"ko": "입력 [{n}]을(를) 실행하다 커널이 멈췄습니다: {error}",
                          "en": "The kernel died while running input [{n}]: {error}"},
    "cell_input_other": {"ko": "입력 [{n}]: {error}", "en": "Input [{n}]: {error}"},
    "cell_nothing_run": {"ko": "아직 실행한 코드가 없습니다. "
                               "함수를 정의한 셀을 먼저 실행한 뒤 다시 확인하세요.",
                         "en": "Nothing has been run yet: run the cells with your functions first, then check again."},
    "cell_no_assignment": {"ko": "채점기가 확인할 문제를 찾지 못했습니다. "
                                 "강의에서 안내한 학생용 채점기를 설치하세요.",
                           "en": "The grader found no assignment to check: install the student grader the course "
                                 "gave you."},
    "cell_unknown_assignment": {"ko": "'{assignment}'은(는) 이 채점기에 없습니다. 있는 것: {known}",
                                "en": "This grader has no '{assignment}'; it has: {known}"},
    "cell_which_assignment": {"ko": "어느 노트북을 확인할지 알 수 없습니다 ({known}). "
                                    "grader.check(assignment=\"{example}\")처럼 이름을 주세요.",
                              "en": "Cannot tell which notebook this is ({known}): name it, e.g. "
                                    "grader.check(assignment=\"{example}\")."},
    "cell_timeout": {"ko": "확인이 {seconds}초 안에 끝나지 않아 멈췄습니다. "
                           "오래 걸리거나 끝나지 않는 셀이 있는지 보세요.",
                     "en": "The check did not finish within {seconds} s and was stopped: look for a cell that "
                           "runs long or never ends."},
    "cell_interrupted": {"ko": "확인을 멈췄습니다.", "en": "The check was stopped."},
    "cell_grader_failed": {"ko": "채점기가 확인을 마치지 못했습니다 (종료 코드 {code}): {detail}",
                           "en": "The grader could not finish the check (exit code {code}): {detail}"},
    "cell_no_detail": {"ko": "이유를 알리지 않았습니다. "
                             "커널을 다시 시작한 뒤 셀을 차례로 실행하고 다시 확인하세요.",
                       "en": "it gave no reason; restart the kernel, run the cells in order and check again"},
    "cell_unexpected": {"ko": "확인 중 예상하지 못한 문제가 생겼습니다: {error}",
                        "en": "Something unexpected went wrong while checking: {error}"},
    "cell_outside_ipython": {"ko": "Jupyter나 Colab 밖에서는 노트북 파일 경로를 주세요: "
                                   "grader.check(Path(\"my.ipynb\"))",
                             "en": "Outside Jupyter or Colab, pass the notebook's path: "
                                   "grader.check(Path(\"my.ipynb\"))"},
    # -- issue 15: the student package (grader/student_package.py) --
    "sp_none": {"ko": "{root}/assignments/ 아래에 학생용 묶음이 없습니다. 먼저 `grader generate 문제이름`을 실행하세요",
                "en": "no student bundle under {root}/assignments/; run `grader generate ASSIGNMENT` first"},
    "sp_no_rubric": {"ko": "{path}/rubric.toml이 없습니다(있는 것: {known}). 문제 이름을 확인하세요",
                     "en": "{path}/rubric.toml not found (known: {known}); check the assignment name"},
    "sp_no_bundle": {"ko": "학생용 묶음 {path}이(가) 없습니다. "
                           "`grader generate {assignment}`로 만든 뒤 다시 실행하세요",
                     "en": "the student bundle {path} does not exist; run `grader generate {assignment}`, "
                           "then this command again"},
    "sp_rubric_broken": {"ko": "채점 기준을 읽을 수 없습니다: {message}",
                         "en": "the rubric cannot be read: {message}"},
    "sp_unknown_files": {"ko": "{path}에 `grader generate`가 쓰지 않는 파일이 있습니다: {files}. 학생에게 가면 안 되는 "
                               "파일일 수 있습니다. `grader generate {assignment}`로 묶음을 다시 만드세요",
                         "en": "{path} holds files `grader generate` does not write: {files}; they may be meant "
                               "for TAs only. Run `grader generate {assignment}` to write the bundle afresh"},
    "sp_stale": {"ko": "{path}이(가) 채점 기준·정답과 맞지 않습니다(없거나 다른 파일: {files}). "
                       "`grader generate {assignment}`로 다시 만드세요",
                 "en": "{path} is out of date with its rubric and solution (missing or different: {files}); "
                       "run `grader generate {assignment}`"},
    "sp_leak": {"ko": "{path}에 정답이나 비공개 테스트의 줄이 들어 있습니다: {leaks}. 그 파일을 지우거나 고친 뒤 "
                      "`grader generate {assignment}`를 실행하세요",
                "en": "{path} holds lines of the solution or of a hidden test: {leaks}; remove or fix that file, "
                      "then run `grader generate {assignment}`"},
    "sp_public_leak": {"ko": "{source}의 파일을 그대로 복사한 {leak}. 학생이 먼저 읽어도 괜찮은지 확인하고, 아니면 "
                             "채점 기준에서 고쳐 쓴 뒤 `grader generate`를 다시 실행하세요",
                       "en": "copied as it is from {source}, {leak}: students can read it before trying; if they "
                             "should not, reword it in the rubric and run `grader generate` again"},
    "sp_description": {"ko": "학생용 grader: {assignments}의 공개 테스트와 기댓값",
                       "en": "grader for students: the public tests and expected values of {assignments}"},
    "sp_install_hint": {"ko": "설치: Colab·Jupyter 셀에서 `%pip install {wheel}`, 터미널에서 `pip install {wheel}` "
                              "(파일을 올린 주소를 써도 됩니다)",
                        "en": "install: in a Colab or Jupyter cell `%pip install {wheel}`, in a terminal "
                              "`pip install {wheel}` (or the URL where you put the file)"},
    "sp_readme": {
        "ko": "# 학생용 grader ({assignments})\n\n"
              "이 패키지에는 공개 테스트와 기댓값만 들어 있습니다. 정답과 비공개 테스트는 없습니다.\n\n"
              "## 설치\n\n"
              "Colab이나 Jupyter 노트북의 셀에서 (조교가 파일을 올린 주소가 있으면 파일 이름 대신 그 주소):\n\n"
              "    %pip install {wheel}\n\n"
              "터미널에서:\n\n"
              "    pip install {wheel}\n\n"
              "이미 설치된 패키지(numpy, pandas, matplotlib, scikit-learn 등)는 요구하는 최소 버전 이상이면 "
              "그대로 두고, 없는 것만 설치합니다.\n\n"
              "## 확인\n\n"
              "터미널에서: `grader check 내노트북.ipynb` (영어로: `--lang en`)\n\n"
              "노트북의 셀에서: `import grader; grader.check()`\n\n"
              "공개 테스트만 실행합니다. 최종 점수는 비공개 테스트까지 포함해 조교가 채점합니다.",
        "en": "# grader for students ({assignments})\n\n"
              "This package holds the public tests and expected values only: no solution, no hidden test.\n\n"
              "## Install\n\n"
              "In a Colab or Jupyter notebook cell (or the URL where your TA put the file, instead of its name):\n\n"
              "    %pip install {wheel}\n\n"
              "In a terminal:\n\n"
              "    pip install {wheel}\n\n"
              "Packages already installed (numpy, pandas, matplotlib, scikit-learn, ...) are kept when they "
              "meet the minimum versions; only missing ones are installed.\n\n"
              "## Check\n\n"
              "In a terminal: `grader check my.ipynb` (in Korean by default; English: `--lang en`)\n\n"
              "In a notebook cell: `import grader; grader.check()`\n\n"
              "It runs the public tests only; your final grade, hidden tests included, comes from your TA.",
    },
    # -- issue 15: Gradescope (grader/gradescope.py) --
    "gradescope_bundle_written": {
        "ko": "{path}: {assignment}의 Gradescope 자동 채점기 (채점 기준 {version}: 공개 테스트 {public}개, "
              "비공개 테스트 {hidden}개, {points}점; 보고서 언어 {language}), {size} KB",
        "en": "{path}: the Gradescope autograder for {assignment} (rubric {version}: {public} public and {hidden} "
              "hidden tests, {points} points; report in {language}), {size} KB"},
    "gradescope_bundle_next": {
        "ko": "Gradescope의 Configure Autograder에서 Zip file upload로 올리세요 (기본 이미지 Ubuntu); "
              "setup.sh가 Python, bubblewrap과 채점기를 설치합니다",
        "en": "upload it in Gradescope under Configure Autograder, Zip file upload (base image Ubuntu); "
              "setup.sh installs Python, bubblewrap and the grader"},
    "gradescope_not_ta_rubric": {
        "ko": "{path}에는 공개 테스트만 있습니다; Gradescope 묶음은 비공개 테스트가 있는 TA 채점 기준"
              "(rubrics/{assignment})으로 만드세요",
        "en": "{path} holds the public tests only; build the Gradescope bundle from the TA rubric "
              "(rubrics/{assignment}, with tests/hidden)"},
    "gradescope_output_is_folder": {
        "ko": "{path}은(는) 폴더입니다; -o에 zip 파일 이름을 주세요 (예: -o autograder.zip)",
        "en": "{path} is a folder; give -o the zip file to write (e.g. -o autograder.zip)"},
    "gradescope_wheel_secret": {
        "ko": "채점기 wheel에 학생이 읽으면 안 되는 파일이 들어갑니다 ({names}); grader/ 밖으로 옮기고 다시 만드세요",
        "en": "the grader's wheel would hold files students must not read ({names}); "
              "move them out of grader/ and build again"},
    "gradescope_no_notebook": {
        "ko": "제출물에서 노트북(.ipynb)을 찾지 못했습니다 (받은 파일: {files}). 노트북 파일({notebook} 또는 "
              ".ipynb로 끝나는 파일)을 올리고 다시 제출하세요.",
        "en": "No notebook (.ipynb) was found in your submission (files received: {files}). Upload your "
              "notebook file ({notebook}, or any name ending in .ipynb) and submit again."},
    "gradescope_nothing": {"ko": "없음", "en": "none"},
    "gradescope_several_notebooks": {
        "ko": "제출물에 노트북이 여러 개 있어 어느 것을 채점할지 알 수 없습니다 ({names}). 채점받을 노트북 "
              "하나만(예: {notebook}) 올리고 다시 제출하세요.",
        "en": "Your submission holds several notebooks and none can be told apart as the one to grade "
              "({names}). Upload only the notebook to grade (e.g. {notebook}) and submit again."},
    "gradescope_cannot_grade": {
        "ko": "자동 채점기가 이 제출물을 채점하지 못했습니다 ({error}). 여러분의 잘못이 아니니 조교에게 알려 주세요.",
        "en": "The autograder could not grade this submission ({error}). This is not your mistake: "
              "tell your TA."},
    "gradescope_autograder_failed": {
        "ko": "자동 채점기가 채점을 마치기 전에 멈췄습니다. 여러분의 잘못이 아니니 조교에게 알려 주세요.",
        "en": "The autograder stopped before it could grade this submission. This is not your mistake: "
              "tell your TA."},
    "gradescope_hidden_readable": {
        "ko": "주의 (교수자용): 이번 채점은 root 권한을 내려놓지 못한 격리({sandbox})에서 실행되어 노트북의 코드가 "
              "비공개 테스트와 정답 풀이를 읽을 수 있었습니다. setup.sh로 bubblewrap을 설치하세요.",
        "en": "Warning (for the course staff): this grading ran in a sandbox that could not drop root "
              "({sandbox}), so the notebook's code could read the hidden tests and the reference solution. "
              "Install bubblewrap (setup.sh does)."},
    "gradescope_graded": {
        "ko": "{submission}: {score} / {max_score} ({status}, 격리 {sandbox}); results.json을 썼습니다",
        "en": "{submission}: {score} / {max_score} ({status}, sandbox {sandbox}); results.json written"},
}

CONSOLE_LANG: Final = "en"
"""Language of the TA's console (``grade``, ``export``, ``generate``, ``validate`` and errors
before a rubric is known): English, as grep-able log lines; a student's ``check`` uses
``--lang`` or the rubric's language."""


def read_back(text: str, forms: Iterable[tuple[re.Pattern[str], str]], lang: str) -> str:
    """A sentence the engine stored in English (in a result: a note, a figure's problem) in
    ``lang``: the catalogue's ``key`` of the first of ``forms`` (pattern, key) it matches,
    filled with the pattern's named groups; a sentence of no known form as it is."""
    for pattern, key in forms:
        m = pattern.fullmatch(text)
        if m:
            return t(key, lang, **m.groupdict())
    return text


def t(key: str, lang: str, **values: object) -> str:
    """The text of *key* in *lang* (English if *lang* is not known), with *values* filled in.

    A key the catalogue does not hold comes back as itself: an unexpected status code is
    shown as it is rather than hidden.
    """
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry["en"]
    return text.format(**values) if values else text
