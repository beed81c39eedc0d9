//! Integration and compile-fail tests for the proactive workspace; the tests live in `tests/`.
