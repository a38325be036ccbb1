build/compiler/emit_c.o: compiler/emit_c.c compiler/arena.h \
 compiler/emit.h compiler/diag.h runtime/schema_desc.h
compiler/arena.h:
compiler/emit.h:
compiler/diag.h:
runtime/schema_desc.h:
