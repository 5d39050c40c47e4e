/* A C ABI over llama.cpp's vocabulary for ctypes (cluster/engines/llama_vocab.py).
 *
 * llama_model_params is passed by value and changes layout between llama.cpp
 * versions, so Python never touches it: this file is compiled against the same
 * llama.h as the cached libllama.so (by cluster/engines/llama_build.py) and every
 * function takes and returns plain pointers and integers. Only the vocabulary and
 * the GGUF metadata are loaded (vocab_only), never the weights.
 */
#include <stdbool.h>
#include <stdint.h>

#include "llama.h"

static void chorus_quiet(enum ggml_log_level level, const char * text, void * user_data) {
    (void) level;
    (void) text;
    (void) user_data;
}

/* The model (vocabulary and metadata only) at path, or NULL. */
struct llama_model * chorus_vocab_load(const char * path) {
    llama_log_set(chorus_quiet, NULL);
    struct llama_model_params params = llama_model_default_params();
    params.vocab_only = true;
    params.n_gpu_layers = 0;
    return llama_model_load_from_file(path, params);
}

/* Tokens in text[0:len], special tokens added and parsed (as llama-server's
 * completions and /tokenize do); negative on failure. Nothing is allocated:
 * llama_tokenize reports the count it would have written as a negative number. */
int32_t chorus_vocab_count(const struct llama_model * model, const char * text, int32_t len) {
    const struct llama_vocab * vocab = llama_model_get_vocab(model);
    int32_t n = llama_tokenize(vocab, text, len, NULL, 0, true, true);
    if (n == INT32_MIN) {
        return -1;
    }
    return n < 0 ? -n : n;
}

/* The GGUF's tokenizer.chat_template (name NULL: the default one), or NULL. */
const char * chorus_vocab_chat_template(const struct llama_model * model, const char * name) {
    return llama_model_chat_template(model, name);
}

/* The text of the BOS (which 0) or EOS (which 1) token into buf; its length, -1 when
 * the vocabulary has no such token, or minus the size needed when buf is too small. */
int32_t chorus_vocab_special(const struct llama_model * model, int32_t which, char * buf, int32_t size) {
    const struct llama_vocab * vocab = llama_model_get_vocab(model);
    llama_token token = which == 0 ? llama_vocab_bos(vocab) : llama_vocab_eos(vocab);
    if (token == LLAMA_TOKEN_NULL) {
        return -1;
    }
    int32_t n = llama_token_to_piece(vocab, token, buf, size, 0, true);
    return n < 0 ? n - 1 : n; /* -1 stays "no token"; -(needed) - 1 means "too small" */
}

/* Whether tokenizing adds BOS (which 0) or EOS (which 1). */
bool chorus_vocab_adds(const struct llama_model * model, int32_t which) {
    const struct llama_vocab * vocab = llama_model_get_vocab(model);
    return which == 0 ? llama_vocab_get_add_bos(vocab) : llama_vocab_get_add_eos(vocab);
}

void chorus_vocab_free(struct llama_model * model) {
    llama_model_free(model);
}
