build/compiler/emit_json.o: compiler/emit_json.c compiler/arena.h \
 compiler/emit.h compiler/diag.h runtime/schema_desc.h
compiler/arena.h:
compiler/emit.h:
compiler/diag.h:
runtime/schema_desc.h:
