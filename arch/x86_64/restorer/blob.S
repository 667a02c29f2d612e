/* The restorer blob, embedded in libocicr. */
	.section .rodata
	.balign 4096
	.globl oc_restorer_blob
	.type oc_restorer_blob, @object
oc_restorer_blob:
	.incbin RESTORER_BIN
	.globl oc_restorer_blob_end
oc_restorer_blob_end:
	.section .note.GNU-stack, "", @progbits
