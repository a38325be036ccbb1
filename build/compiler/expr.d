build/compiler/expr.o: compiler/expr.c compiler/expr.h compiler/diag.h \
 compiler/arena.h compiler/interp.h runtime/image_format.h \
 compiler/../runtime/expr.h
compiler/expr.h:
compiler/diag.h:
compiler/arena.h:
compiler/interp.h:
runtime/image_format.h:
compiler/../runtime/expr.h:
