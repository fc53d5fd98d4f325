package seal_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/redsafe/redsafe/seal"
)

func Example() {
	// In production the key comes from configuration: seal.ParseKey(text).
	key := seal.GenerateKey()
	s := seal.New(key)

	token := s.Seal(nil, []byte("cached value"))

	plaintext, err := s.Open(nil, token, 10*time.Minute)
	if err != nil {
		fmt.Println("open:", err)
		return
	}
	fmt.Printf("%s (token is %d bytes)\n", plaintext, len(token))

	// Any change to the token is detected.
	token[len(token)/2] ^= 1
	_, err = s.Open(nil, token, 10*time.Minute)
	fmt.Println(errors.Is(err, seal.ErrInvalidToken))
	// Output:
	// cached value (token is 100 bytes)
	// true
}

func ExampleSealer_OpenKey() {
	oldKey, newKey := seal.GenerateKey(), seal.GenerateKey()
	token := seal.New(oldKey).Seal(nil, []byte("sealed before rotation"))

	// After rotating, seal with the new key and still accept the old one.
	s := seal.New(newKey, oldKey)
	plaintext, keyIndex, err := s.OpenKey(nil, token, 0)
	if err != nil {
		fmt.Println("open:", err)
		return
	}
	if keyIndex > 0 {
		// Re-seal so the old key can be retired once no reads need it.
		token, _ = s.Rotate(nil, token)
	}
	fmt.Println(string(plaintext), keyIndex)
	_, keyIndex, _ = s.OpenKey(nil, token, 0)
	fmt.Println(keyIndex)
	// Output:
	// sealed before rotation 1
	// 0
}
