build/compiler/main.o: compiler/main.c compiler/arena.h \
 compiler/compile.h compiler/diag.h runtime/image.h \
 runtime/image_format.h runtime/schema_desc.h compiler/node.h \
 runtime/schema_desc.h compiler/dsl.h compiler/dump.h compiler/embed.h \
 compiler/explain.h compiler/gen.h compiler/image_write.h \
 runtime/image_format.h compiler/rules.h compiler/validate.h
compiler/arena.h:
compiler/compile.h:
compiler/diag.h:
runtime/image.h:
runtime/image_format.h:
runtime/schema_desc.h:
compiler/node.h:
runtime/schema_desc.h:
compiler/dsl.h:
compiler/dump.h:
compiler/embed.h:
compiler/explain.h:
compiler/gen.h:
compiler/image_write.h:
runtime/image_format.h:
compiler/rules.h:
compiler/validate.h:
