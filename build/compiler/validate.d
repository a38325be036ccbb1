build/compiler/validate.o: compiler/validate.c compiler/validate.h \
 compiler/diag.h compiler/node.h runtime/schema_desc.h compiler/arena.h \
 compiler/allow_if.h runtime/format.h runtime/schema_desc.h \
 compiler/image_write.h runtime/image_format.h compiler/interp.h \
 compiler/yaml.h
compiler/validate.h:
compiler/diag.h:
compiler/node.h:
runtime/schema_desc.h:
compiler/arena.h:
compiler/allow_if.h:
runtime/format.h:
runtime/schema_desc.h:
compiler/image_write.h:
runtime/image_format.h:
compiler/interp.h:
compiler/yaml.h:
