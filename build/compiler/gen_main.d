build/compiler/gen_main.o: compiler/gen_main.c compiler/arena.h \
 compiler/diag.h compiler/dsl.h compiler/gen.h runtime/schema_desc.h
compiler/arena.h:
compiler/diag.h:
compiler/dsl.h:
compiler/gen.h:
runtime/schema_desc.h:
