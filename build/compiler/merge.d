build/compiler/merge.o: compiler/merge.c compiler/merge.h compiler/node.h \
 compiler/diag.h compiler/arena.h
compiler/merge.h:
compiler/node.h:
compiler/diag.h:
compiler/arena.h:
