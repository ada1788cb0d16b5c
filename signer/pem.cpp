#include "signer/pem.hpp"

#include <memory>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

namespace kiln::signer {

namespace {

struct BioFree
{
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

} // namespace

Result<std::vector<PemBlock>> pem_decode_all(std::string_view text)
{
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) {
    return fail("out of memory");
  }
  std::vector<PemBlock> blocks;
  for (;;) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long length = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &length) != 1) {
      unsigned long err = ERR_peek_last_error();
      ERR_clear_error();
      // Running out of blocks is the normal end; anything else is damage.
      if (ERR_GET_REASON(err) == PEM_R_NO_START_LINE) {
        break;
      }
      return fail(blocks.empty() ? "damaged PEM block" : "damaged PEM block after the first");
    }
    blocks.push_back({name, std::string(reinterpret_cast<char*>(data), static_cast<size_t>(length))});
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
  }
  if (blocks.empty()) {
    return fail("no PEM block");
  }
  return blocks;
}

std::string pem_encode(std::string_view label, std::string_view der)
{
  BioPtr bio(BIO_new(BIO_s_mem()));
  std::string name(label);
  PEM_write_bio(bio.get(), name.c_str(), "", reinterpret_cast<const unsigned char*>(der.data()),
                static_cast<long>(der.size()));
  char* out = nullptr;
  long size = BIO_get_mem_data(bio.get(), &out);
  return std::string(out, static_cast<size_t>(size));
}

} // namespace kiln::signer
