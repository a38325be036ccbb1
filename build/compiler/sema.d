build/compiler/sema.o: compiler/sema.c compiler/arena.h compiler/diag.h \
 runtime/schema_desc.h compiler/sema.h
compiler/arena.h:
compiler/diag.h:
runtime/schema_desc.h:
compiler/sema.h:
