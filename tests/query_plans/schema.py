"""A small strawberry schema with the shapes a plan must get right (graphql-jit's
nonnull, lists, variables and error tests): nullable and non-null fields and list
items, resolvers that raise or return errors, abstract types, arguments of every kind."""

from __future__ import annotations

import enum
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.permission import BasePermission

from query_plans.differential import DifferentialExecutionContext


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.input
class Box:
    width: int
    height: int | None = None
    colour: Colour = Colour.RED


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Cat(Named):
    lives: int


@strawberry.type
class Dog(Named):
    good: bool


Pet = Annotated[Cat | Dog, strawberry.union("Pet")]


class Boom(Exception):
    pass


class Deny(BasePermission):
    message = "Denied."

    def has_permission(self, source, info, **kwargs) -> bool:
        return False


@strawberry.type
class Item:
    id: int

    @strawberry.field
    def name(self) -> str:
        return f"item {self.id}"

    @strawberry.field
    def nullable_boom(self) -> str | None:
        raise Boom(f"boom {self.id}")

    @strawberry.field
    def non_null_boom(self) -> str:
        if self.id == 2:
            raise GraphQLError("coded", extensions={"code": "BOOM"})
        return "fine"

    @strawberry.field
    def non_null_none(self) -> str:
        return None  # type: ignore[return-value]

    @strawberry.field
    def returned_error(self) -> str | None:
        return Boom("returned, not raised")  # type: ignore[return-value]

    @strawberry.field
    def big(self) -> int | None:
        return 2**40

    @strawberry.field
    def wrong_type(self) -> int | None:
        return "not a number"  # type: ignore[return-value]

    @strawberry.field
    def child(self) -> Item | None:
        return Item(id=self.id + 10) if self.id < 10 else None

    @strawberry.field
    def strict_child(self) -> Item:
        return Item(id=self.id + 10)


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return [Item(id=1), Item(id=2), Item(id=3)]

    @strawberry.field
    def items_with_null(self) -> list[Item | None]:
        return [Item(id=1), None, Item(id=3)]

    @strawberry.field
    def strict_items_with_null(self) -> list[Item] | None:
        return [Item(id=1), None, Item(id=3)]  # type: ignore[list-item]

    @strawberry.field
    def not_a_list(self) -> list[int] | None:
        return 3  # type: ignore[return-value]

    @strawberry.field
    def matrix(self) -> list[list[int | None]]:
        return [[1, None], [3]]

    @strawberry.field
    def echo(
        self,
        text: str = "default",
        number: int | None = None,
        numbers: list[int] | None = None,
        box: Box | None = None,
        colour: Colour | None = None,
    ) -> str:
        if numbers is not None:
            numbers.append(-1)  # a resolver that changes its argument
        described = box and (box.width, box.height, box.colour.value)
        return f"{text} {number} {numbers} {described} {colour and colour.value}"

    @strawberry.field
    def pets(self) -> list[Pet]:
        return [Cat(name="Tom", lives=9), Dog(name="Rex", good=True)]

    @strawberry.field
    def named(self) -> list[Named]:
        return [Cat(name="Tom", lives=9), Dog(name="Rex", good=True)]

    @strawberry.field
    def wrong_object(self) -> Cat | None:
        return Dog(name="Rex", good=True)  # type: ignore[return-value]

    @strawberry.field(permission_classes=[Deny])
    def guarded(self) -> str | None:
        return "secret"

    @strawberry.field
    async def slow(self) -> str:
        return "later"


@strawberry.type
class Mutation:
    @strawberry.mutation
    def touch(self) -> int:
        return 1


schema = strawberry.Schema(
    query=Query, mutation=Mutation, execution_context_class=DifferentialExecutionContext
)
