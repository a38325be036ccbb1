build/compiler/dump.o: compiler/dump.c compiler/dump.h runtime/image.h \
 runtime/image_format.h runtime/schema_desc.h
compiler/dump.h:
runtime/image.h:
runtime/image_format.h:
runtime/schema_desc.h:
