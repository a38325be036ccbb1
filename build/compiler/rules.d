build/compiler/rules.o: compiler/rules.c compiler/rules.h compiler/diag.h \
 compiler/node.h runtime/schema_desc.h compiler/arena.h runtime/image.h \
 runtime/image_format.h runtime/schema_desc.h generated/mcpg_config.h
compiler/rules.h:
compiler/diag.h:
compiler/node.h:
runtime/schema_desc.h:
compiler/arena.h:
runtime/image.h:
runtime/image_format.h:
runtime/schema_desc.h:
generated/mcpg_config.h:
