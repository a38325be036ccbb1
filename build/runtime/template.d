build/runtime/template.o: runtime/template.c runtime/template.h \
 runtime/expr.h runtime/image_format.h runtime/strbuf.h
runtime/template.h:
runtime/expr.h:
runtime/image_format.h:
runtime/strbuf.h:
