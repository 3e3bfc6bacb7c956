"""Stable codes for what GraphQL itself refuses before running anything: a document that does not
parse, breaks a limit or does not validate, and variables that do not fit their types. With
them every error a client gets has an `extensions.code`, as refusals and faults already do."""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum

from graphql import ASTValidationRule, GraphQLError, GraphQLSyntaxError
from graphql.validation import ASTValidationContext
from strawberry.extensions import SchemaExtension

from gateway.errors import INTERNAL_SERVER_ERROR, UNEXPECTED_ERROR


class DocumentErrorCode(StrEnum):
    """Why a document was refused unrun (HTTP 400 with the GraphQL response media type)."""

    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    # Variables that are missing or do not fit their declared types.
    BAD_USER_INPUT = "BAD_USER_INPUT"
    TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
    QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
    TOO_MANY_ALIASES = "TOO_MANY_ALIASES"


def with_code(error: GraphQLError, code: str) -> GraphQLError:
    """A copy of `error` carrying `code`: errors of a cached validation are shared by requests,
    so they are never changed in place."""
    return GraphQLError(
        error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions={**(error.extensions or {}), "code": str(code)},
    )


def coded_rule(rule: type[ASTValidationRule], code: DocumentErrorCode) -> type[ASTValidationRule]:
    """`rule`, its errors carrying `code`. For strawberry's limiters, which check the whole
    document and report while they are constructed."""

    class CodedRule(rule):  # type: ignore[valid-type, misc]  # a class made at run time
        def __init__(self, context: ASTValidationContext) -> None:
            report = context.on_error
            context.on_error = lambda error: report(with_code(error, code))  # type: ignore[method-assign]
            try:
                super().__init__(context)
            finally:
                context.on_error = report  # type: ignore[method-assign]

    CodedRule.__name__ = f"Coded{rule.__name__}"
    return CodedRule


def token_limit_message(max_tokens: int) -> str:
    """graphql-core's syntax error for a document over the token limit."""
    return f"Syntax Error: Document contains more than {max_tokens} tokens. Parsing aborted."


class DocumentErrorCodes(SchemaExtension):
    """Gives each error of a refused document the code of the step that refused it (`with_code`);
    errors that already carry a code, and faults (masked by `MaskFaults`), are left as they are.
    Listed before `MaskFaults`, it sees the errors after them."""

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens
        self.validation_failed = False

    def on_validate(self) -> Iterator[None]:
        yield
        self.validation_failed = bool(self.execution_context.pre_execution_errors)

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = [self.coded(error) for error in errors]  # type: ignore[union-attr]

    def coded(self, error: GraphQLError) -> GraphQLError:
        if (error.extensions or {}).get("code"):
            return error
        if isinstance(error, GraphQLSyntaxError):
            too_long = error.message == token_limit_message(self.max_tokens)
            code = (
                DocumentErrorCode.TOO_MANY_TOKENS
                if too_long
                else DocumentErrorCode.GRAPHQL_PARSE_FAILED
            )
            return with_code(error, code)
        if error.path is not None:
            # A field error GraphQL raised itself (a value its type cannot represent, a null
            # where none may be): our fault, masked as any other.
            return GraphQLError(
                UNEXPECTED_ERROR,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                extensions={"code": INTERNAL_SERVER_ERROR},
            )
        if self.validation_failed:
            return with_code(error, DocumentErrorCode.GRAPHQL_VALIDATION_FAILED)
        return with_code(error, DocumentErrorCode.BAD_USER_INPUT)
