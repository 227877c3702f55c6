/**
 * Messages exactly as MinIO's notification targets (AMQP, NATS, MQTT, webhook) publish them: an
 * `event.Log` of {EventName, Key, Records}, the record's key escaped with Go's url.QueryEscape
 * (space as `+`, `/` as `%2F`), the top-level Key raw.
 */
export function minioNotification(
  bucket: string,
  key: string,
  object: { etag?: string; size?: number },
  eventName = 's3:ObjectCreated:Put',
): object {
  return {
    EventName: eventName,
    Key: `${bucket}/${key}`,
    Records: [
      {
        eventVersion: '2.0',
        eventSource: 'minio:s3',
        awsRegion: '',
        eventTime: new Date().toISOString(),
        eventName,
        userIdentity: { principalId: 'minioadmin' },
        requestParameters: { principalId: 'minioadmin', region: '', sourceIPAddress: '127.0.0.1' },
        responseElements: {
          'x-amz-id-2': 'dd9025bab4ad464b049177c95eb6ebf3',
          'x-amz-request-id': '17E1C0B3A7C9F4C2',
        },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'Config',
          bucket: {
            name: bucket,
            ownerIdentity: { principalId: 'minioadmin' },
            arn: `arn:aws:s3:::${bucket}`,
          },
          object: {
            key: queryEscape(key),
            ...(object.size !== undefined ? { size: object.size } : {}),
            ...(object.etag ? { eTag: object.etag } : {}),
            contentType: 'application/octet-stream',
            userMetadata: { 'content-type': 'application/octet-stream' },
            sequencer: '17E1C0B3A8D2B5F0',
          },
        },
        source: { host: '127.0.0.1', port: '', userAgent: 'MinIO (linux; amd64) minio-go/v7.0.70' },
      },
    ],
  };
}

/** The same notification as a structured-mode CloudEvent (JSON, data inline). */
export function asCloudEvent(notification: object, id: string): object {
  return {
    specversion: '1.0',
    id,
    source: 'minio:s3',
    type: 'com.amazonaws.s3.ObjectCreated',
    datacontenttype: 'application/json',
    time: new Date().toISOString(),
    data: notification,
  };
}

/** Go's url.QueryEscape: everything but letters, digits and `-_.~` is %XX, space is `+`. */
export function queryEscape(text: string): string {
  return Array.from(Buffer.from(text, 'utf8'))
    .map((byte) => {
      const c = String.fromCharCode(byte);
      if (/[A-Za-z0-9\-_.~]/.test(c)) return c;
      if (c === ' ') return '+';
      return `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}
