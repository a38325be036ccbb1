build/runtime/strbuf.o: runtime/strbuf.c runtime/strbuf.h
runtime/strbuf.h:
