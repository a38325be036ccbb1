build/compiler/image_write.o: compiler/image_write.c \
 compiler/image_write.h compiler/diag.h runtime/image_format.h \
 runtime/schema_desc.h runtime/image.h runtime/image_format.h \
 runtime/schema_desc.h
compiler/image_write.h:
compiler/diag.h:
runtime/image_format.h:
runtime/schema_desc.h:
runtime/image.h:
runtime/image_format.h:
runtime/schema_desc.h:
