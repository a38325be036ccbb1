build/compiler/interp.o: compiler/interp.c compiler/interp.h \
 compiler/diag.h runtime/image_format.h compiler/arena.h \
 runtime/schema_desc.h runtime/expr.h
compiler/interp.h:
compiler/diag.h:
runtime/image_format.h:
compiler/arena.h:
runtime/schema_desc.h:
runtime/expr.h:
