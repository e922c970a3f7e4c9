import { createReadStream } from 'node:fs';
import { DeleteObjectCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ObjectStorageConfig } from '../config.ts';

/** 8 MiB parts, two at a time: a long show's file goes up in pieces, each retried by the SDK. */
const PART_BYTES = 8 * 1024 * 1024;
const PARTS_AT_ONCE = 2;

/** An S3-compatible bucket holding finished recordings: upload (multipart), signed URLs, delete. */
export class ObjectStorage {
  readonly #client: S3Client;
  readonly #config: ObjectStorageConfig;

  constructor(config: ObjectStorageConfig) {
    this.#config = config;
    this.#client = new S3Client({
      region: config.region,
      forcePathStyle: config.forcePathStyle,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      ...(config.credentials ? { credentials: config.credentials } : {}),
    });
  }

  /** The object key of a recording's media. */
  keyOf(recordingId: string, file: string): string {
    return `${this.#config.prefix}${recordingId}/${file}`;
  }

  async upload(key: string, path: string, contentType: string): Promise<void> {
    const upload = new Upload({
      client: this.#client,
      params: { Bucket: this.#config.bucket, Key: key, Body: createReadStream(path), ContentType: contentType },
      partSize: PART_BYTES,
      queueSize: PARTS_AT_ONCE,
      leavePartsOnError: false,
    });
    await upload.done();
  }

  /** A URL that GETs the object (byte ranges too) until it expires. */
  signedUrl(key: string): Promise<string> {
    return getSignedUrl(this.#client, new GetObjectCommand({ Bucket: this.#config.bucket, Key: key }), { expiresIn: this.#config.urlTtlSeconds });
  }

  async delete(key: string): Promise<void> {
    await this.#client.send(new DeleteObjectCommand({ Bucket: this.#config.bucket, Key: key }));
  }

  close(): void {
    this.#client.destroy();
  }
}
