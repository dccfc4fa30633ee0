#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Independent NTLMSSP/SPNEGO peer for tests/auth/test_ntlmssp.c, built on
impacket (Debian python3-impacket): its client code makes NEGOTIATE and
AUTHENTICATE messages for our server, and its crypto functions check the
AUTHENTICATE our client made. Run with /usr/bin/python3. All binary values
are passed as hex. Exit status 0 = success, 1 = mismatch, 2 = impacket
missing, 3 = usage.

  type1 sign|nosign
      -> "<spnego negTokenInit hex> <raw NEGOTIATE hex>"
  type3 <raw NEGOTIATE hex> <server reply hex> <user> <password> <domain> spnego|raw
      -> "<client reply hex> <exported session key hex>"
  verify <NEGOTIATE hex> <CHALLENGE hex> <AUTHENTICATE hex> <user> <password>
         <domain> <session key hex>
      -> "OK" when NTProofStr, the session key and the MIC all check
  maclist <flags hex> <session key hex> <MechTypeList hex> <mechListMIC hex>
          client|server
      -> "OK" when impacket's SIGNKEY/SEALKEY/MAC ([MS-NLMP] 3.4.4.2, seq 0,
         fresh RC4 handle) give the same signature for that direction
"""
import hmac
import sys

try:
    from impacket import ntlm, spnego
    from Cryptodome.Cipher import ARC4
except ImportError as e:  # pragma: no cover
    print("impacket missing: %s" % e)
    sys.exit(2)

NTLMSSP_OID = spnego.TypesMech['NTLMSSP - Microsoft NTLM Security Support Provider']


def type1(sign):
    t1 = ntlm.getNTLMSSPType1('', '', signingRequired=sign)
    raw = t1.getData()
    init = spnego.SPNEGO_NegTokenInit()
    init['MechTypes'] = [NTLMSSP_OID]
    init['MechToken'] = raw
    print(init.getData().hex(), raw.hex())


def type3(neg_hex, reply_hex, user, password, domain, mode):
    t1 = ntlm.NTLMAuthNegotiate()
    t1.fromString(bytes.fromhex(neg_hex))
    reply = bytes.fromhex(reply_hex)
    if mode == 'spnego':
        resp = spnego.SPNEGO_NegTokenResp(reply)
        if resp['SupportedMech'] != NTLMSSP_OID:
            print("server did not select NTLMSSP")
            sys.exit(1)
        chal = resp['ResponseToken']
    else:
        chal = reply
    t3, key = ntlm.getNTLMSSPType3(t1, chal, user, password, domain)
    raw = t3.getData()
    if mode == 'spnego':
        out = spnego.SPNEGO_NegTokenResp()
        out['ResponseToken'] = raw
        raw = out.getData()
    print(raw.hex(), key.hex())


def field(msg, at):
    n = int.from_bytes(msg[at:at + 2], 'little')
    off = int.from_bytes(msg[at + 4:at + 8], 'little')
    return msg[off:off + n]


def verify(neg_hex, chal_hex, auth_hex, user, password, domain, key_hex):
    neg = bytes.fromhex(neg_hex)
    chal = bytes.fromhex(chal_hex)
    auth = bytes.fromhex(auth_hex)
    key = bytes.fromhex(key_hex)
    server_challenge = chal[24:32]
    nt = field(auth, 20)
    enc = field(auth, 52)
    flags = int.from_bytes(auth[60:64], 'little')
    if field(auth, 36) != user.encode('utf-16le'):
        print("user name differs")
        return 1
    if field(auth, 28) != domain.encode('utf-16le'):
        print("domain differs")
        return 1
    response_key = ntlm.NTOWFv2(user, password, domain)
    proof = ntlm.hmac_md5(response_key, server_challenge + nt[16:])
    if proof != nt[:16]:
        print("NTProofStr differs")
        return 1
    base = ntlm.hmac_md5(response_key, proof)
    if flags & ntlm.NTLMSSP_NEGOTIATE_KEY_EXCH:
        exported = ARC4.new(base).decrypt(enc)
    else:
        exported = base
    if exported != key:
        print("session key differs: impacket %s" % exported.hex())
        return 1
    av = ntlm.AV_PAIRS(nt[16 + 28:])
    avflags = av[ntlm.NTLMSSP_AV_FLAGS]
    if avflags is not None and int.from_bytes(avflags[1], 'little') & 2:
        zeroed = auth[:72] + b'\0' * 16 + auth[88:]
        mic = hmac.new(exported, neg + chal + zeroed, 'md5').digest()
        if mic != auth[72:88]:
            print("MIC differs")
            return 1
    else:
        print("no MIC in AUTHENTICATE")
        return 1
    print("OK")
    return 0


def maclist(flags_hex, key_hex, types_hex, mic_hex, mode):
    flags = int(flags_hex, 16)
    key = bytes.fromhex(key_hex)
    mode = 'Client' if mode == 'client' else 'Server'
    sign_key = ntlm.SIGNKEY(flags, key, mode)
    seal_key = ntlm.SEALKEY(flags, key, mode)
    handle = ARC4.new(seal_key).encrypt
    sig = ntlm.MAC(flags, handle, sign_key, 0, bytes.fromhex(types_hex))
    if sig.getData() != bytes.fromhex(mic_hex):
        print("mechListMIC differs: impacket %s" % sig.getData().hex())
        return 1
    print("OK")
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == 'type1':
        type1(argv[2] == 'sign')
        return 0
    if len(argv) == 8 and argv[1] == 'type3':
        type3(*argv[2:])
        return 0
    if len(argv) == 7 and argv[1] == 'maclist':
        return maclist(*argv[2:])
    if len(argv) == 9 and argv[1] == 'verify':
        return verify(*argv[2:])
    print(__doc__)
    return 3


if __name__ == '__main__':
    sys.exit(main(sys.argv))
