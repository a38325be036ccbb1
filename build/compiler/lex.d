build/compiler/lex.o: build/compiler/lex.c build/compiler/parse.h \
 compiler/sema.h
build/compiler/parse.h:
compiler/sema.h:
