build/compiler/embed.o: build/compiler/embed.c compiler/embed.h
compiler/embed.h:
