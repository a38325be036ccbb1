build/runtime/main.o: runtime/main.c runtime/image.h \
 runtime/image_format.h runtime/schema_desc.h
runtime/image.h:
runtime/image_format.h:
runtime/schema_desc.h:
