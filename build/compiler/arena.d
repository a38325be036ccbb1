build/compiler/arena.o: compiler/arena.c compiler/arena.h
compiler/arena.h:
