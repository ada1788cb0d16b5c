#pragma once

// A content digest, "<algorithm>:<hex>". kiln writes sha256 only; sha512
// is accepted when reading content that other tools wrote.
//
//   digest    ::= algorithm ":" encoded
//   algorithm ::= "sha256" | "sha512"
//   encoded   ::= 64 (sha256) or 128 (sha512) lower-case hex characters

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace kiln::oci {

enum class Algorithm { sha256, sha512 };

class Digest
{
public:
  // An empty digest (str() is ""), for members filled in later.
  Digest() = default;
  bool empty() const { return m_hex.empty(); }
  static Result<Digest> parse(std::string_view text);
  // Only sha256: what kiln accepts wherever it writes.
  static Result<Digest> parse_sha256(std::string_view text);
  static Digest of(std::string_view data, Algorithm algorithm = Algorithm::sha256);

  Algorithm algorithm() const { return m_algorithm; }
  std::string_view algorithm_name() const;
  const std::string& hex() const { return m_hex; }
  std::string str() const;
  // "sha256:abcdef012345" for messages.
  std::string short_str() const;

  friend bool operator==(const Digest&, const Digest&) = default;
  friend auto operator<=>(const Digest& a, const Digest& b) { return a.str() <=> b.str(); }

private:
  friend class Hasher;
  Digest(Algorithm algorithm, std::string hex) : m_algorithm(algorithm), m_hex(std::move(hex)) {}
  Algorithm m_algorithm = Algorithm::sha256;
  std::string m_hex;
};

// The digest of what fd holds, read with pread from offset 0 to its end
// (the fd's offset is left alone); `bytes`, when given, receives the count.
Result<Digest> digest_of_fd(int fd, Algorithm algorithm = Algorithm::sha256, uint64_t* bytes = nullptr);

// A streaming hash over OpenSSL's EVP interface (which uses the CPU's SHA
// extensions where it has them).
class Hasher
{
public:
  explicit Hasher(Algorithm algorithm = Algorithm::sha256);
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;
  ~Hasher();

  void update(const void* data, size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  // Finishes the hash; the hasher can not be updated afterwards.
  Digest finish();
  uint64_t bytes() const { return m_bytes; }

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
  Algorithm m_algorithm;
  uint64_t m_bytes = 0;
};

} // namespace kiln::oci

template<> struct std::hash<kiln::oci::Digest>
{
  size_t operator()(const kiln::oci::Digest& d) const noexcept { return std::hash<std::string>{}(d.hex()); }
};
