build/compiler/gen.o: compiler/gen.c compiler/gen.h compiler/diag.h \
 runtime/schema_desc.h compiler/arena.h compiler/emit.h
compiler/gen.h:
compiler/diag.h:
runtime/schema_desc.h:
compiler/arena.h:
compiler/emit.h:
