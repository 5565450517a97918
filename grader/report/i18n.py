"""User-interface words in Korean (default) and English."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "title": {"ko": "채점 결과", "en": "Grading report"},
    "score": {"ko": "점수", "en": "Score"},
    "status": {"ko": "상태", "en": "Status"},
    "task": {"ko": "문제", "en": "Task"},
    "test": {"ko": "테스트", "en": "Test"},
    "result": {"ko": "결과", "en": "Result"},
    "details": {"ko": "설명", "en": "Details"},
    "hidden_note": {"ko": "숨겨진 테스트: 이름과 결과만 표시됩니다", "en": "hidden test: name and verdict only"},
    "cells": {"ko": "실행 중 문제가 생긴 셀", "en": "Cells that failed while running"},
    "cell": {"ko": "셀", "en": "cell"},
    "handout_code": {"ko": "과제에 주어진 코드 때문 (감점 없음)", "en": "the handout's own code (not counted against you)"},
    "notes": {"ko": "참고", "en": "Notes"},
    "passed": {"ko": "통과", "en": "passed"},
    "failed": {"ko": "실패", "en": "failed"},
    "error": {"ko": "오류", "en": "error"},
    "timeout": {"ko": "시간 초과", "en": "timeout"},
    "graded": {"ko": "채점 완료", "en": "graded"},
    "partial": {"ko": "부분 채점 (일부 셀 실패)", "en": "partly graded (some cells failed)"},
    "crashed": {"ko": "커널 중단", "en": "crashed"},
    "invalid": {"ko": "읽을 수 없는 노트북", "en": "invalid notebook"},
    "recognised": {"ko": "인정된 해석", "en": "accepted reading"},
    "mistake": {"ko": "알려진 실수", "en": "known mistake"},
    "public_only": {"ko": "공개 테스트만 실행했습니다 (숨겨진 테스트는 TA 채점 때 실행)", "en": "public tests only (hidden tests run when your TA grades)"},
    "sandbox": {"ko": "격리 방식", "en": "sandbox"},
    "all_passed": {"ko": "모든 테스트를 통과했습니다.", "en": "All tests passed."},
    "failed_tests": {"ko": "실패한 테스트", "en": "Failed tests"},
    "report_written": {"ko": "보고서", "en": "report"},
}


def t(key: str, lang: str) -> str:
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry["en"]
