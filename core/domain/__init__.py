"""Pure domain types: msgspec Structs, enums, state machines, money. No I/O."""
