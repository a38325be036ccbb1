build/compiler/parse.o: build/compiler/parse.c compiler/sema.h
compiler/sema.h:
