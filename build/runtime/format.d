build/runtime/format.o: runtime/format.c runtime/format.h \
 runtime/schema_desc.h
runtime/format.h:
runtime/schema_desc.h:
