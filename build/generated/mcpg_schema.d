build/generated/mcpg_schema.o: generated/mcpg_schema.c \
 runtime/schema_desc.h
runtime/schema_desc.h:
