build/compiler/emit_man.o: compiler/emit_man.c compiler/arena.h \
 compiler/emit.h compiler/diag.h runtime/schema_desc.h
compiler/arena.h:
compiler/emit.h:
compiler/diag.h:
runtime/schema_desc.h:
