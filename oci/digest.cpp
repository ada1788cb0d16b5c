#include "oci/digest.hpp"

#include <cerrno>
#include <memory>
#include <vector>

#include <unistd.h>

#include <openssl/evp.h>

#include <fmt/core.h>

#include "base/error.hpp"
#include "base/strings.hpp"

namespace kiln::oci {

namespace {

size_t hex_length(Algorithm algorithm)
{
  return algorithm == Algorithm::sha256 ? 64 : 128;
}

bool is_lower_hex(std::string_view text)
{
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

} // namespace

Result<Digest> Digest::parse(std::string_view text)
{
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return fail(fmt::format("invalid digest \"{}\": expected <algorithm>:<hex>", text));
  }
  std::string_view name = text.substr(0, colon);
  std::string_view hex = text.substr(colon + 1);
  Algorithm algorithm;
  if (name == "sha256") {
    algorithm = Algorithm::sha256;
  } else if (name == "sha512") {
    algorithm = Algorithm::sha512;
  } else {
    return fail(fmt::format("unsupported digest algorithm \"{}\" in \"{}\" (kiln reads sha256 and sha512)", name, text));
  }
  if (hex.size() != hex_length(algorithm) || !is_lower_hex(hex)) {
    return fail(fmt::format("invalid digest \"{}\": {} needs {} lower-case hex characters",
                            text, name, hex_length(algorithm)));
  }
  return Digest(algorithm, std::string(hex));
}

Result<Digest> Digest::parse_sha256(std::string_view text)
{
  auto digest = parse(text);
  if (digest && digest->algorithm() != Algorithm::sha256) {
    return fail(fmt::format("unsupported digest algorithm in \"{}\": only sha256 is accepted here", text));
  }
  return digest;
}

Digest Digest::of(std::string_view data, Algorithm algorithm)
{
  Hasher hasher(algorithm);
  hasher.update(data);
  return hasher.finish();
}

Result<Digest> digest_of_fd(int fd, Algorithm algorithm, uint64_t* bytes)
{
  Hasher hasher(algorithm);
  // One buffer per thread, left uninitialised: a fresh zeroed megabyte per
  // call cost more than hashing the small files most calls are for (a
  // context or a venv of thousands of them).
  constexpr size_t k_buffer_size = 1 << 20;
  thread_local std::unique_ptr<char[]> buffer(new char[k_buffer_size]);
  off_t offset = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buffer.get(), k_buffer_size, offset);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return fail(fmt::format("read: {}", errno_text(errno)));
    }
    if (n == 0) {
      break;
    }
    hasher.update(buffer.get(), static_cast<size_t>(n));
    offset += n;
  }
  if (bytes != nullptr) {
    *bytes += static_cast<uint64_t>(offset);
  }
  return hasher.finish();
}

std::string_view Digest::algorithm_name() const
{
  return m_algorithm == Algorithm::sha256 ? "sha256" : "sha512";
}

std::string Digest::str() const
{
  if (m_hex.empty()) {
    return {};
  }
  return fmt::format("{}:{}", algorithm_name(), m_hex);
}

std::string Digest::short_str() const
{
  return fmt::format("{}:{}", algorithm_name(), m_hex.substr(0, 12));
}

struct Hasher::Impl
{
  EVP_MD_CTX* ctx = nullptr;
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

Hasher::Hasher(Algorithm algorithm) : m_impl(std::make_unique<Impl>()), m_algorithm(algorithm)
{
  m_impl->ctx = EVP_MD_CTX_new();
  const EVP_MD* md = algorithm == Algorithm::sha256 ? EVP_sha256() : EVP_sha512();
  if (m_impl->ctx == nullptr || EVP_DigestInit_ex(m_impl->ctx, md, nullptr) != 1) {
    throw Fatal("OpenSSL: cannot initialise a SHA context");
  }
}

Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;
Hasher::~Hasher() = default;

void Hasher::update(const void* data, size_t size)
{
  EVP_DigestUpdate(m_impl->ctx, data, size);
  m_bytes += size;
}

Digest Hasher::finish()
{
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(m_impl->ctx, out, &length);
  return Digest(m_algorithm, hex_encode({out, length}));
}

} // namespace kiln::oci
