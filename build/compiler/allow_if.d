build/compiler/allow_if.o: compiler/allow_if.c compiler/allow_if.h \
 compiler/diag.h compiler/arena.h compiler/interp.h \
 runtime/image_format.h runtime/expr.h
compiler/allow_if.h:
compiler/diag.h:
compiler/arena.h:
compiler/interp.h:
runtime/image_format.h:
runtime/expr.h:
