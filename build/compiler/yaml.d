build/compiler/yaml.o: compiler/yaml.c compiler/yaml.h compiler/diag.h \
 compiler/node.h compiler/arena.h
compiler/yaml.h:
compiler/diag.h:
compiler/node.h:
compiler/arena.h:
