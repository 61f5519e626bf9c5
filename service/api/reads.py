"""The seam where a compiled read answers a query: the schema extension's ``on_execute`` hook
(service.api.lifecycle) supplies the operation's result, and Strawberry then skips its own execution (the
seam a response cache uses); everything else the extension does still wraps the request.

With KB_COMPILED_READS on, a query the compiler knows (service.api.compiler) is one Cypher statement; any
other request, or one the compiler declines, is executed by Strawberry as before.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from graphql import DocumentNode, ExecutionResult
from strawberry import Schema
from strawberry.types import ExecutionContext

from service.api.compiler import Declined, Plans, Unsupported
from service.api.context import Context
from service.api.gate import typed_schema
from service.api.limits import NoOperation, select_operation
from service.errors import DatabaseUnavailable, QueryTimeout
from service.observability import COMPILED_READS

log = logging.getLogger("service.api")
COMPILED, UNSUPPORTED, DECLINED = (COMPILED_READS.labels(outcome=o) for o in ("compiled", "unsupported", "declined"))


@lru_cache(maxsize=4)
def plans_for(schema: Schema, max_page: int) -> Plans:
    return Plans(typed_schema(schema), max_page)


async def answer_compiled(execution: ExecutionContext) -> None:
    """Before execution: the compiled answer becomes the operation's result, and Strawberry skips its own
    execution; with none (compiled reads off, a request the compiler declines) Strawberry executes it."""
    context = execution.context
    document = execution.graphql_document
    if isinstance(context, Context) and context.settings.compiled_reads and document is not None:
        result = await compiled(execution, context, document)
        if result is not None:
            execution.result = result


async def compiled(execution: ExecutionContext, context: Context, document: DocumentNode) -> ExecutionResult | None:
    """The compiled answer, or None for Strawberry to execute the operation."""
    admission = context.admission
    try:
        operation = select_operation(document, admission.operation_name if admission else None)
        plans = plans_for(execution.schema, context.settings.max_page_size)
        plan, params = plans.plan(document, operation, execution.variables or {})
        try:
            records = await context.db.read(plan.cypher, params)  # text built from our templates alone
        except (DatabaseUnavailable, QueryTimeout) as error:
            failed, errors = plan.failed(error)  # as the resolvers' queries would have failed
            COMPILED.inc()
            return ExecutionResult(data=failed, errors=errors)
        data = plan.answer(records[0]["data"], params)
    except (Unsupported, NoOperation):
        UNSUPPORTED.inc()  # Strawberry answers: exactly, errors included
        return None
    except Declined:
        DECLINED.inc()
        return None
    except Exception:  # a fault of the compiler's must not cost the request its answer
        DECLINED.inc()
        log.exception("compiling or running a compiled query failed; Strawberry answers it")
        return None
    COMPILED.inc()
    return ExecutionResult(data=data, errors=None)
