import { describe, expect, it } from 'vitest';
import { additionalAuthenticatedData } from '../../../../shared/keyring/payload/additionalAuthenticatedData';
import { guidFromDotnetBytes, guidToDotnetBytes } from '../../../../shared/keyring/payload/dotnetGuidBytes';
import { CONTEXT_HEADER, ManagedAuthenticatedEncryptor, type RandomSource } from '../../../../shared/keyring/payload/ManagedAuthenticatedEncryptor';
import { sp800108CtrHmacSha512 } from '../../../../shared/keyring/payload/sp800108CtrHmacSha512';

/*
 * Published vectors of dotnet/aspnetcore's Data Protection tests (src/DataProtection/DataProtection/test/…)
 * and ../shared/reference/dataprotection.md §5.
 */

const utf8 = (s: string) => Buffer.from(s, 'utf8');

/** SequentialGenRandom: fills every request with 0, 1, 2, … continuing across calls. */
function sequentialRandom(): RandomSource {
  let next = 0;
  return (buffer) => {
    for (let i = 0; i < buffer.length; i++) buffer[i] = next++ & 0xff;
  };
}

describe('SP800-108 CTR HMACSHA512 (SP800_108Tests)', () => {
  // DeriveKeyWithContextHeader_Normal_Managed: lengths straddling the 64-byte PRF output.
  it.each([
    [63, 'V47WmHzPSkdC2vkLAomIjCzZlDOAetll3yJLcSvon7LJFjJpEN+KnSNp+gIpeydKMsENkflbrIZ/3s6GkEaH'],
    [64, 'mVaFM4deXLl610CmnCteNzxgbM/VkmKznAlPauHcDBn0le06uOjAKLHx0LfoU2/Ttq9nd78Y6Nk6wArmdwJgJg=='],
    [65, 'GaHPeqdUxriFpjRtkYQYWr5/iqneD/+hPhVJQt4rXblxSpB1UUqGqL00DMU/FJkX0iMCfqUjQXtXyfks+p++Ev4='],
  ])('kdk "kdk", %i bytes', (length, expected) => {
    const context = Buffer.concat([utf8('contextHeader'), utf8('context')]);
    expect(sp800108CtrHmacSha512(utf8('kdk'), utf8('label'), context, length).toString('base64')).toBe(expected);
  });

  // DeriveKeyWithContextHeader_LongKey_Managed: a 50,000-byte KDK (HMAC hashes it down first).
  it.each([
    [63, 'rt2hM6kkQ8hAXmkHx0TU4o3Q+S7fie6b3S1LAq107k++P9v8uSYA2G+WX3pJf9ZkpYrTKD7WUIoLkgA1R9lk'],
    [64, 'RKiXmHSrWq5gkiRSyNZWNJrMR0jDyYHJMt9odOayRAE5wLSX2caINpQmfzTH7voJQi3tbn5MmD//dcspghfBiw=='],
    [65, 'KedXO0zAIZ3AfnPqY1NnXxpC3HDHIxefG4bwD3g6nWYEc5+q7pjbam71Yqj0zgHMNC9Z7BX3wS1/tajFocRWZUk='],
  ])('kdk of 50,000 bytes 0, 1, 2, …, %i bytes', (length, expected) => {
    const kdk = Buffer.alloc(50_000);
    for (let i = 0; i < kdk.length; i++) kdk[i] = i & 0xff;
    const context = Buffer.concat([utf8('contextHeader'), utf8('context')]);
    expect(sp800108CtrHmacSha512(kdk, utf8('label'), context, length).toString('base64')).toBe(expected);
  });

  // DeriveKeys_EmptyKdk_Managed_ShouldSucceed: the derivation CreateContextHeader performs.
  it.each([
    [64, 'fHGMWaDLmoncLsEKuKbZo8T+73paNohDeb5O7BSxbC8Gus8d/mUpa/9w2ss65OHlmFw1VZhIXzr5swMYVRndRw=='],
    [96, 'iXd0KuWopclbxtWf9dO8fnerBqLJvndOUs74pTcj7Ck8Ctsvz4QttXkCY1DPd4aDbOE/CCU8/bIQtzoU1Xu3ZQ1pV0qEZmzFll+Vpf+q7av7AGEqwh56a+NPt6gxC5CP'],
  ])('empty kdk, label and context, %i bytes', (length, expected) => {
    const empty = Buffer.alloc(0);
    expect(sp800108CtrHmacSha512(empty, empty, empty, length).toString('base64')).toBe(expected);
  });
});

describe('ManagedAuthenticatedEncryptor (AES-256-CBC + HMACSHA256)', () => {
  it('has the 66-byte context header of AES_256_CBC + HMACSHA256', () => {
    expect(CONTEXT_HEADER.toString('hex')).toBe('000000000020000000100000002000000020ea10387ac9273b7fd5321177776f1530f946d3c71d60dd7b287366d81cb03fe5e5a701fa16f1554f1581fddd576ce844');
  });

  // ManagedAuthenticatedEncryptorTests.Encrypt_KnownKey: key modifier 00..0f and IV 10..1f from SequentialGenRandom.
  const KNOWN = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+36j4yWJOjBgOJxmYDYwhLnYqFxw+9mNh/cudyPrWmJmw4d/dmGaLJLLut2udiAAA=';

  it('encrypts the known key to the published bytes', () => {
    const encryptor = new ManagedAuthenticatedEncryptor(utf8('master key'), sequentialRandom());
    expect(encryptor.encrypt(Buffer.from([2, 3, 4]), Buffer.from([6, 5, 4, 3])).toString('base64')).toBe(KNOWN);
  });

  it('decrypts the published bytes (and the CNG encryptor output, which is the same body)', () => {
    const encryptor = new ManagedAuthenticatedEncryptor(utf8('master key'));
    expect([...encryptor.decrypt(Buffer.from(KNOWN, 'base64'), Buffer.from([6, 5, 4, 3]))]).toEqual([2, 3, 4]);
    // CbcAuthenticatedEncryptorTests.Encrypt_KnownKey: 3 bytes of pre-buffer and 4 of post-buffer around the same body.
    const cng = Buffer.from('AAAAAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+36j4yWJOjBgOJxmYDYwhLnYqFxw+9mNh/cudyPrWmJmw4d/dmGaLJLLut2udiAAAAAAAA', 'base64');
    expect([...encryptor.decrypt(cng.subarray(3, cng.length - 4), Buffer.from([6, 5, 4, 3]))]).toEqual([2, 3, 4]);
  });
});

describe('payload header and AAD', () => {
  it('writes key ids in .NET Guid.ToByteArray order', () => {
    expect(guidToDotnetBytes('3d6d01fd-c0e7-44ae-82dd-013b996b4093').toString('hex')).toBe('fd016d3de7c0ae4482dd013b996b4093');
    expect(guidFromDotnetBytes(Buffer.from('fd016d3de7c0ae4482dd013b996b4093', 'hex'))).toBe('3d6d01fd-c0e7-44ae-82dd-013b996b4093');
  });

  // AdditionalAuthenticatedDataTemplateTests: the template (key id still zero) for five purposes, one over 127 UTF-8 bytes.
  it('serialises purposes as BinaryWriter.Write(string) does', () => {
    const purposes = [
      'my sample string',
      '©®±µ¶',
      'my other sample string',
      'CfDJ8H5oH_fp1QNBmvs-OWXxsVoV30hrXeI4-PI4p1VZytjsgd0DTstMdtTZbFtm2dKHvsBlDCv7TiEWKztZf8fb48pUgBgUE2SeYV3eOUXvSfNWU0D8SmHLy5KEnwKKkZKqudDhCnjQSIU7mhDliJJN1e4',
      '.',
    ];
    expect(additionalAuthenticatedData('00000000-0000-0000-0000-000000000000', purposes).toString('base64')).toBe(
      'CfDJ8AAAAAAAAAAAAAAAAAAAAAAAAAAFEG15IHNhbXBsZSBzdHJpbmcKwqnCrsKxwrXCthZteSBvdGhlciBzYW1wbGUgc3RyaW5nmwFDZkRKOEg1b0hfZnAxUU5CbXZzLU9XWHhzVm9WMzBoclhlSTQtUEk0cDFWWnl0anNnZDBEVHN0TWR0VFpiRnRtMmRLSHZzQmxEQ3Y3VGlFV0t6dFpmOGZiNDhwVWdCZ1VFMlNlWVYzZU9VWHZTZk5XVTBEOFNtSEx5NUtFbndLS2taS3F1ZERoQ25qUVNJVTdtaERsaUpKTjFlNAEu',
    );
  });

  it('refuses a purpose .NET could not encode', () => {
    expect(() => additionalAuthenticatedData('3d6d01fd-c0e7-44ae-82dd-013b996b4093', ['a', 'b\ud800'])).toThrow(/purpose 2 .*lone surrogate/);
  });
});
