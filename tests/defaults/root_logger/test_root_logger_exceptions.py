from backstage_runtime.api.errors import InputError

from .fakes import Captured


def raise_and_catch(error: BaseException) -> BaseException:
    try:
        raise error
    except BaseException as caught:
        return caught


def test_exception_text_is_appended_to_the_json_message(json_logger: Captured) -> None:
    json_logger.logger.error("Request failed", raise_and_catch(ValueError("boom")))

    assert json_logger.records[-1]["message"] == "Request failed boom"


def test_exception_name_is_a_json_field(json_logger: Captured) -> None:
    json_logger.logger.error("Request failed", raise_and_catch(ValueError("boom")))

    assert json_logger.records[-1]["name"] == "ValueError"


def test_backstage_error_uses_its_backstage_name(json_logger: Captured) -> None:
    json_logger.logger.warn("Bad input", InputError("missing id"))

    assert json_logger.records[-1]["name"] == "InputError"


def test_exception_traceback_is_the_json_stack_field(json_logger: Captured) -> None:
    json_logger.logger.error("Request failed", raise_and_catch(ValueError("boom")))

    stack = json_logger.records[-1]["stack"]
    assert stack.startswith("Traceback (most recent call last):")
    assert "in raise_and_catch" in stack
    assert stack.endswith("ValueError: boom")


def test_exception_never_raised_has_a_one_line_stack(json_logger: Captured) -> None:
    json_logger.logger.error("failed", KeyError("id"))

    assert json_logger.records[-1]["stack"] == "KeyError: 'id'"


def test_pretty_prints_the_traceback_after_the_line(pretty_logger: Captured) -> None:
    pretty_logger.logger.error("Request failed", raise_and_catch(ValueError("boom")))

    first, *rest = pretty_logger.lines
    assert first.endswith('error Request failed boom name="ValueError"')
    assert rest[0] == "Traceback (most recent call last):"
    assert rest[-1] == "ValueError: boom"


def test_exception_inside_meta_is_rendered_as_name_and_message(json_logger: Captured) -> None:
    json_logger.logger.warn("retrying", {"error": InputError("bad")})

    assert json_logger.records[-1]["error"] == {"name": "InputError", "message": "bad"}


def test_traceback_is_redacted_too(json_logger: Captured) -> None:
    json_logger.logger.add_redactions(["hunter2"])

    json_logger.logger.error("login failed", raise_and_catch(ValueError("password hunter2")))

    assert "hunter2" not in json_logger.text
