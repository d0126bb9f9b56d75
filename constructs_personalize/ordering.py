"""The order the imports of one dataset run in, and the refusal at synth of a dependency against it.

Personalize rejects an INCREMENTAL import before the dataset has bulk data, and a FULL import replaces
whatever the dataset held: the library runs the imports of one dataset one after the other, FULL first,
then in declaration order. Each later import's custom resource depends on the previous import's end.

A user dependency the other way round (``full.node.add_dependency(incremental)``, or the same between
constructs that hold them) would close a loop: ``cdk synth`` would succeed and write a circular
template that CloudFormation rejects. A validation (run after CDK's prepare step, when construct
dependencies have become ``DependsOn`` between resources) finds such a loop and fails the synth with
the two imports, the order the library keeps and the way out.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

import jsii
from aws_cdk import CfnResource
from constructs import IConstruct, IValidation

ORDER = "FULL first, then in declaration order"


@dataclass(frozen=True)
class _Ordered:
    """One import in its dataset's order."""

    rank: int  # 0 for FULL, 1 for INCREMENTAL
    index: int  # declaration order
    start: IConstruct
    done: IConstruct
    waits: bool
    requested_by: str
    import_mode: str
    job_name: str = ""  # the import's JobName attribute (a token)
    identity: str = ""  # a digest of what the import imports, as synthesized


@dataclass
class _DatasetOrder:
    """The imports of one dataset, in the order they run, and the dependencies the library added."""

    imports: list[_Ordered] = field(default_factory=list)
    edges: list[tuple[IConstruct, IConstruct]] = field(default_factory=list)  # (later start, earlier done)


class ImportOrder:
    """The order of the imports of each dataset of one stack (the stack's provider holds one)."""

    def __init__(self, scope: IConstruct) -> None:
        self._scope = scope  # where the validations go
        self._datasets: dict[str, _DatasetOrder] = {}

    def add(
        self,
        start: IConstruct,
        done: IConstruct,
        dataset_arn: str,
        import_mode: str,
        *,
        waits: bool,
        requested_by: str,
        job_name: str = "",
        identity: str = "",
    ) -> None:
        """Run the imports of one dataset one after the other: FULL first, then in declaration order.

        Each import's ``start`` (its custom resource) waits for the previous import's ``done`` (the custom
        resource, or the wait condition of a long wait). Inserting keeps the relative order of the imports
        already registered, so every edge added earlier stays right.
        """
        order = self._datasets.setdefault(dataset_arn, _DatasetOrder())
        imports = order.imports
        rank = 0 if import_mode == "FULL" else 1
        entry = _Ordered(rank, len(imports), start, done, waits, requested_by, import_mode, job_name, identity)
        imports.append(entry)
        imports.sort(key=lambda item: (item.rank, item.index))
        position = imports.index(entry)
        for earlier, later in itertools.pairwise(imports):
            if not earlier.waits:
                raise ValueError(
                    f"{later.requested_by} imports into the same dataset after {earlier.requested_by}, which does not "
                    "wait for its job (ImportWait.do_not_wait): the deployment cannot know when that job ends. Wait "
                    "for it (ImportWait.within_deployment or up_to), or import the dataset's data in another deploy"
                )
        if position > 0:
            _after(order, start, imports[position - 1].done)
        if position + 1 < len(imports):
            _after(order, imports[position + 1].start, done)
        if len(imports) == 2:  # one import alone has no order to go against
            self._scope.node.add_validation(_NoDependencyAgainstTheOrder(order))

    def full_before(self, dataset_arn: str, requested_by: str) -> tuple[str, str] | None:
        """(JobName token, identity) of the last FULL import that runs before ``requested_by``'s, once all are declared.

        A FULL import replaces the dataset's bulk data: whatever runs after it must run again when it does.
        """
        found = None
        for item in self._datasets.get(dataset_arn, _DatasetOrder()).imports:
            if item.requested_by == requested_by:
                return found
            if item.import_mode == "FULL":
                found = (item.job_name, item.identity)
        return found


def _after(order: _DatasetOrder, later_start: IConstruct, earlier_done: IConstruct) -> None:
    later_start.node.add_dependency(earlier_done)
    order.edges.append((later_start, earlier_done))


@jsii.implements(IValidation)
class _NoDependencyAgainstTheOrder:
    """Fails the synth when an import of the dataset waits, through ``DependsOn``, for an import that runs after it.

    Every dependency the library adds goes from a later import to an earlier one, so a loop through them
    must also hold a path, made of other dependencies, from an earlier import to a later import's custom
    resource; such a path closes the loop, since the later import waits for the earlier one. So: from each
    import's custom resource and end, follow ``DependsOn`` (leaving out the library's own edges) and look
    for the custom resource of an import that runs after it. References (``Ref``, ``Fn::GetAtt``) are not
    followed: ``node.add_dependency`` becomes ``DependsOn``, and that is the mistake looked for here.
    """

    def __init__(self, order: _DatasetOrder) -> None:
        self._order = order

    def validate(self) -> list[str]:
        graph = _Graph()
        ours = {
            (source, target)
            for later_start, earlier_done in self._order.edges
            for source in graph.resources(later_start)
            for target in graph.resources(earlier_done)
        }
        imports = self._order.imports
        starts = [set(graph.resources(item.start)) for item in imports]
        errors = []
        for position, earlier in enumerate(imports):
            roots = {**graph.resources(earlier.start), **graph.resources(earlier.done)}
            reached = graph.reachable(roots.items(), ours)
            errors += [
                _message(earlier, later)
                for later, later_start in zip(imports[position + 1 :], starts[position + 1 :], strict=True)
                if reached & later_start
            ]
        return errors


class _Graph:
    """The ``DependsOn`` of a stack's resources, keyed by construct path (jsii proxies are not unique)."""

    def __init__(self) -> None:
        self._depends_on: dict[str, dict[str, CfnResource]] = {}

    @staticmethod
    def resources(construct: IConstruct) -> dict[str, CfnResource]:
        return {found.node.path: found for found in construct.node.find_all() if isinstance(found, CfnResource)}

    def reachable(self, roots: Iterable[tuple[str, CfnResource]], skip: set[tuple[str, str]]) -> set[str]:
        seen: set[str] = set()
        pending = list(roots)
        while pending:
            path, resource = pending.pop()
            if path in seen:
                continue
            seen.add(path)
            pending += [(target, dep) for target, dep in self._of(path, resource).items() if (path, target) not in skip]
        return seen

    def _of(self, path: str, resource: CfnResource) -> dict[str, CfnResource]:
        found = self._depends_on.get(path)
        if found is None:
            # Another stack stands for a cross-stack dependency: not part of this stack's loops.
            found = self._depends_on[path] = {
                dep.node.path: dep for dep in resource.obtain_dependencies() if isinstance(dep, CfnResource)
            }
        return found


def _message(earlier: _Ordered, later: _Ordered) -> str:
    if earlier.rank < later.rank:
        way_out = (
            "a FULL import of a dataset always runs before its INCREMENTAL imports, whatever the declaration "
            "order: an INCREMENTAL import needs the dataset's bulk data"
        )
    else:
        way_out = f"to run {later.requested_by} first, declare it before {earlier.requested_by}"
    return (
        f"{earlier.requested_by} ({earlier.import_mode}) depends on {later.requested_by} ({later.import_mode}) "
        "(node.add_dependency on the imports, on constructs that hold them or on resources between them), "
        f"but the library runs the imports of one dataset one after the other, {ORDER}: {later.requested_by} "
        f"waits for {earlier.requested_by}, and the template would be circular. Drop the dependency (the library "
        f"already orders the imports of a dataset); {way_out}"
    )
