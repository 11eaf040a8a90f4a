"""The codes a plan uses for how a field is read and how its value is completed."""

# How a field's value is read. INLINE ones are read by the executor's object loop,
# unless completing the value takes an Info; the others go through ``_field``.
COLUMN = 0  # a loaded model column: the instance's __dict__, else strawberry-django
ATTRIBUTE = 1  # strawberry's default resolver: getattr(source, name)
SELF = 2  # a resolver of the object alone
SELF_ARGS = 3  # a resolver of the object and arguments converted once
CONSTANT = 4  # __typename
FOREIGN_KEY = 5  # a cached forward relation, else strawberry-django
BASIC = 6  # a basic field with its own get_result
CALL = 7  # a resolver with parent/root/info parameters or lists to copy
GET_RESULT = 8  # field.get_result with an Info, as strawberry calls it
GENERIC = 9  # the GraphQL field's resolver with coerced arguments, as graphql-core calls it
SELF_COPY = 10  # a resolver of the object and arguments, lists among them copied per call
INLINE = (COLUMN, ATTRIBUTE, SELF, SELF_ARGS, CONSTANT, FOREIGN_KEY, SELF_COPY)
SLOW = -1  # the object loop hands the field to Executor._field

# How a value is completed.
LEAF, LIST, OBJECT, ABSTRACT = range(4)
# Leaf types whose serializer returns these values unchanged.
STRING, INT, BOOLEAN, OTHER = range(4)
