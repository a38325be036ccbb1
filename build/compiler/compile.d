build/compiler/compile.o: compiler/compile.c compiler/compile.h \
 compiler/diag.h runtime/image.h runtime/image_format.h \
 runtime/schema_desc.h compiler/node.h runtime/schema_desc.h \
 compiler/image_write.h runtime/image_format.h compiler/merge.h \
 compiler/rules.h compiler/validate.h compiler/yaml.h
compiler/compile.h:
compiler/diag.h:
runtime/image.h:
runtime/image_format.h:
runtime/schema_desc.h:
compiler/node.h:
runtime/schema_desc.h:
compiler/image_write.h:
runtime/image_format.h:
compiler/merge.h:
compiler/rules.h:
compiler/validate.h:
compiler/yaml.h:
