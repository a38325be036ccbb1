build/compiler/dsl.o: compiler/dsl.c compiler/arena.h compiler/diag.h \
 compiler/dsl.h build/compiler/parse.h runtime/schema_desc.h \
 compiler/sema.h
compiler/arena.h:
compiler/diag.h:
compiler/dsl.h:
build/compiler/parse.h:
runtime/schema_desc.h:
compiler/sema.h:
