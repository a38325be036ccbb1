build/runtime/expr.o: runtime/expr.c runtime/expr.h \
 runtime/image_format.h
runtime/expr.h:
runtime/image_format.h:
